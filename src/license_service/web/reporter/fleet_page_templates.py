"""The HTML templates of the Reporter's page ``/`` and of its refusal (Jinja2, autoescape on).

They extend License Service's ``page.html`` (its style, its nonce'd ``<style>``)
and import its ``macros.html`` (``table``, ``chart_svg``), so the Reporter's tables and
charts look like License Service's. Each runs one script under the same nonce,
``FLEET_SCRIPT``, which keeps the ``?token=`` the page was opened with for the tab and
adds it to the links marked ``data-token`` when they are followed: the links as sent
hold no token. Nothing is marked safe. The extra style and the script below are
literal template text (no ``{{``).
"""

from __future__ import annotations

from typing import Final

from license_service.web.reporter.fleet_page_script import FLEET_SCRIPT

_SCRIPT: Final = '<script nonce="{{ nonce }}">' + FLEET_SCRIPT + "</script>\n"

FLEET_STYLE: Final = """
nav { margin: .4rem 0; }
ul.legend { list-style: none; padding: 0; margin: .3rem 0; display: flex; flex-wrap: wrap; }
ul.legend li { margin-right: 1.2rem; }
figure.fleet-chart { margin: 1.2rem 0 2rem; }
"""

FLEET_PAGE: Final = (
    """{% extends "page.html" %}
{% from "macros.html" import chart_svg, table %}
{% macro links(id, title, items) %}
<nav id="{{ id }}">{{ title }}:
{% for link in items %}
<a id="{{ link.id }}" href="{{ link.href }}" data-token
{%- if link.current %} class="current" aria-current="page"{% endif %}>{{ link.label }}</a>
{%- if not loop.last %} &middot;{% endif %}

{% endfor %}
</nav>
{% endmacro %}
{% block title %}License Service Reporter: the fleet{% endblock %}
{% block style %}"""
    + FLEET_STYLE
    + """{% endblock %}
{% block body %}
<header>
<h1>License Service Reporter: the fleet</h1>
<p class="muted">version {{ page.version }} &middot;
<span id="cluster-count">{{ page.cluster_count }}</span> clusters &middot;
<a id="link-status" href="/status" data-token>status page</a> (refused keys, compliance) &middot;
<a id="link-openapi" href="/openapi.json">API description</a></p>
</header>
<main>
<p class="hint" id="token-hint">Opened with <code>?token=</code>, this tab keeps the
Reporter token (until it closes) and adds it to the page's links as they are followed; the
Reporter never writes its token into a page. Behind a proxy that sends
<code>Authorization: Bearer</code>, every link works as it is.</p>
{{ links("period-links", "Period", page.period_links) }}
<p id="period-shown">Shown: <strong>{{ page.period_text }}</strong> (UTC days)
{%- if page.metric %}, metric <strong id="metric-shown">{{ page.metric }}</strong>{% endif %}.
<span class="hint">Any other period: <code>/?dateFrom=YYYY-MM-DD&amp;dateTo=YYYY-MM-DD</code>,
at most {{ page.max_days }} days, ending today at the latest.</span></p>
{{ links("metric-links", "Metric", page.metric_links) }}

<section id="clusters">
<h2>Clusters</h2>
{{ table("cluster-rows", page.clusters_head, page.clusters, "No cluster has pushed yet.") }}
{% if page.clusters_more %}
<p id="clusters-more" class="hint">{{ page.clusters_more }} more clusters:
<code>GET /clusters</code> lists every one.</p>
{% endif %}
</section>

<section id="products">
<h2>Products of the fleet: the highest daily sum of {{ page.period_text }}</h2>
<p class="hint">Per product (or Cloud Pak) and metric, per day, the sum of the clusters'
daily peaks; the period's value is the highest daily sum, on the earliest day that
reached it (as <code>GET /products</code> answers).</p>
{{ table("product-rows", page.products_head, page.products,
         "No usage in the period.") }}
</section>

<section id="charts">
<h2>Daily sums stacked by cluster</h2>
<p id="charts-note" class="hint">{{ page.charts_note }}</p>
{% for chart in page.charts %}
<figure id="{{ chart.id }}" class="fleet-chart" data-product-id="{{ chart.product_id }}"
 data-metric="{{ chart.metric }}" data-top-value="{{ chart.top_value }}"
 data-plot-height="{{ chart.plot_height }}" data-bottom-y="{{ chart.bottom_y }}">
{% call chart_svg(chart) %}
{% for band in chart.bands %}
<g class="band" data-band="{{ loop.index0 }}" data-cluster-id="{{ band.id }}"
 fill="{{ band.colour }}"><title>{{ band.label }}</title>
{% for bar in band.bars %}
<rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.width }}" height="{{ bar.height }}"
 data-day="{{ bar.day }}" data-quantity="{{ bar.quantity }}">
<title>{{ band.label }}, {{ bar.day }}: {{ bar.quantity }}</title></rect>
{% endfor %}
</g>
{% endfor %}
{% endcall %}
<ul class="legend" id="{{ chart.id }}-legend">
{% for band in chart.bands %}
<li data-band="{{ loop.index0 }}"><svg width="12" height="12" aria-hidden="true"
 xmlns="http://www.w3.org/2000/svg"><rect width="12" height="12" fill="{{ band.colour }}"/></svg>
{{ band.label }} <span class="muted">(highest {{ band.highest }})</span></li>
{% endfor %}
</ul>
<figcaption>{{ chart.title }}: {{ chart.description }}</figcaption>
<details><summary>The numbers</summary>
{{ table(chart.id ~ "-numbers", chart.numbers_head, chart.numbers) }}
</details>
</figure>
{% endfor %}
</section>
</main>
"""
    + _SCRIPT
    + """{% endblock %}
"""
)

FLEET_REFUSED: Final = (
    """{% extends "page.html" %}
{% block title %}License Service Reporter: {{ status }} {{ phrase }}{% endblock %}
{% block body %}
<header><h1>License Service Reporter: {{ status }} {{ phrase }}</h1></header>
<main>
<p id="refusal" class="bad" data-refused="{{ status }}">{{ message }}</p>
<section id="how-to-get-in">
<h2>How to get in</h2>
<ul>
<li>Add the Reporter token to this address: <code>?token=&lt;Reporter token&gt;</code>, or
<code>&amp;token=&lt;Reporter token&gt;</code> after its other parameters
(<code>/?dateFrom=2026-10-01&amp;dateTo=2026-12-31&amp;token=...</code>). The tab then
keeps it until it closes and adds it to the pages' links; the Reporter never writes the
token into its pages.</li>
<li>The Reporter token: <code>license-service token get --reporter --data-dir DIR</code>,
or in Kubernetes <code>kubectl get secret ibm-license-service-reporter-token -n NAMESPACE
-o jsonpath='{.data.token}' | base64 -d</code>.</li>
<li>Or send <code>Authorization: Bearer &lt;token&gt;</code> (the Reporter token, or a
Kubernetes service-account token allowed to get the path): a proxy in front of the
Reporter can add it to every request, and then every link works as it is.</li>
</ul>
</section>
</main>
"""
    + _SCRIPT
    + """{% endblock %}
"""
)

FLEET_TEMPLATES: Final = {"fleet.html": FLEET_PAGE, "fleet_refused.html": FLEET_REFUSED}
