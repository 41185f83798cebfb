"""The HTML templates of ``/`` and ``/status`` (Jinja2, rendered with autoescape on).

Kept as Python strings so they ship inside the package without packaging rules. Every
value is escaped by Jinja's autoescape; nothing is marked safe. The one style sheet
and the one script are literal template text (they hold no ``{{``, ``{%`` or ``{#``)
and carry the response's CSP nonce, so a page loads nothing from elsewhere and runs
no other script.
"""

from __future__ import annotations

from typing import Final

from license_service.web.pages.page_macros import MACROS
from license_service.web.pages.tab_token_script import KEPT_FOR_TAB

STYLE: Final = """
:root { color-scheme: light dark; --muted: #666; --line: #ccc; --bad: #b00020; --good: #1b5e20; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; }
body { padding: 1rem 1.5rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.15rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; }
/* Long ids break rather than push wide tables past the page's edge. */
td { vertical-align: top; overflow-wrap: anywhere; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: rgba(127,127,127,.12); padding: .75rem; overflow: auto; max-height: 30rem; }
label { display: block; font-weight: 600; margin-top: .6rem; }
input { font: inherit; padding: .25rem .4rem; min-width: 18rem; }
.hint, .muted { color: var(--muted); font-size: .9rem; }
.bad { color: var(--bad); font-weight: 600; } .good { color: var(--good); font-weight: 600; }
.fields { display: flex; flex-wrap: wrap; gap: 0 2rem; }
/* Metric names break only where the page put a <wbr>: after an underscore. */
td.words { overflow-wrap: normal; }
nav a.current { color: inherit; font-weight: 600; text-decoration: none; }
"""

# Plain ES2017, no library. Links work without it (default period, no token). The token
# is kept for the tab and taken out of the address by ``tab_token_script``'s lines.
SCRIPT: Final = (
    r"""
(() => {
  "use strict";
"""
    + KEPT_FOR_TAB
    + r"""
  const $ = (id) => document.getElementById(id);
  const apiToken = $("api-token"), accountToken = $("service-account-token");
  const dateFrom = $("date-from"), dateTo = $("date-to");
  const result = $("result"), resultStatus = $("result-status");
  const links = Array.from(document.querySelectorAll("a[data-path]"));

  function urlOf(link, withApiToken) {
    const params = new URLSearchParams();
    if (link.dataset.period && dateFrom.value && dateTo.value) {
      params.set("dateFrom", dateFrom.value);
      params.set("dateTo", dateTo.value);
    }
    if (link.dataset.format) params.set("format", link.dataset.format);
    if (withApiToken && link.dataset.auth && apiToken.value) params.set("token", apiToken.value);
    const query = params.toString();
    return link.dataset.path + (query ? "?" + query : "");
  }

  const periodHint = $("period-hint"), periodText = periodHint.textContent;

  function update() {
    for (const link of links) link.href = urlOf(link, true);
    const wrong = dateFrom.value && dateTo.value && dateFrom.value > dateTo.value;
    periodHint.className = wrong ? "bad" : "hint";
    periodHint.textContent = wrong ? "The first day is after the last day: swap them." : periodText;
  }

  function show(status, text) {
    resultStatus.textContent = status;
    result.textContent = text;
    result.hidden = text === "";
  }

  function fileNameOf(response, link) {
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    if (match) return match[1];
    const type = response.headers.get("Content-Type") || "";
    return link.dataset.path.slice(1) + (type.startsWith("text/html") ? ".html" : "");
  }

  async function fetchWithHeader(link) {
    show("Loading " + link.dataset.path + " ...", "");
    let response;
    try {
      response = await fetch(urlOf(link, false), {
        headers: { Authorization: "Bearer " + accountToken.value },
        cache: "no-store",
      });
    } catch (error) {
      show("The request failed: " + error, "");
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    const heading = response.status + " " + response.statusText + " - " + link.dataset.path;
    if (type.startsWith("application/json")) {
      const text = await response.text();
      let pretty = text;
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* as sent */ }
      show(heading, pretty);
      return;
    }
    if (!response.ok) {
      show(heading, await response.text());
      return;
    }
    const blob = await response.blob();
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(blob);
    anchor.download = fileNameOf(response, link);
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(anchor.href), 60000);
    show(heading + ": downloaded " + anchor.download + " (" + blob.size + " bytes)", "");
  }

  for (const link of links) {
    link.addEventListener("click", (event) => {
      if (!link.dataset.auth || !accountToken.value) return;
      event.preventDefault();
      fetchWithHeader(link);
    });
  }
  for (const input of [apiToken, dateFrom, dateTo]) input.addEventListener("input", update);

  // The API token is kept for this tab only, so that it is typed once: the status page
  // (which never holds the token) links back here with its period, and the period in the
  // address brings the kept token back into the field.
  // Storage off: the field alone holds the token.
  const kept = tabToken("license-service.api-token");
  const keep = () => kept.set(apiToken.value);
  apiToken.addEventListener("input", keep);

  // The demo prints /?token=<API token>: take the token into the field, then drop it from
  // the address bar (and the history entry), so the printed link works as printed and the
  // token does not stay on screen. The status page links here with its period, and with
  // open=status to go on to the status page of another period.
  const address = new URL(location.href), params = address.searchParams;
  const day = (name) => /^\d{4}-\d{2}-\d{2}$/.test(params.get(name) || "");
  const fromStatusPage = day("dateFrom") && day("dateTo");
  const given = takeToken(address);
  if (given !== null) {
    apiToken.value = given;
    keep();
  } else if (fromStatusPage && !apiToken.value) {
    apiToken.value = kept.get();
  }
  if (fromStatusPage) {
    dateFrom.value = params.get("dateFrom");
    dateTo.value = params.get("dateTo");
  }
  const openStatus = params.get("open") === "status";
  // open=usage_explained: the status page's link to the breakdown of a product's peak.
  const openExplained = params.get("open") === "usage_explained";
  const explained = new URLSearchParams();
  for (const name of ["productId", "metricName", "date", "cloudpakId"]) {
    if (openExplained && params.has(name)) explained.set(name, params.get(name));
    params.delete(name);
  }
  params.delete("open");
  replaceAddress(address);
  update();
  if (openStatus || openExplained) {
    if (apiToken.value && openExplained) {
      explained.set("token", apiToken.value);
      location.replace("/usage_explained?" + explained.toString());
    } else if (apiToken.value) {
      location.replace($("link-status").href);
    } else {
      show("Put the API token in the field above, then open the "
        + (openExplained ? "explanation again." : "status page."), "");
      apiToken.focus();
    }
  }
})();
"""
)

PAGE: Final = (
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{% block title %}License Service{% endblock %}</title>
<style nonce="{{ nonce }}">"""
    + STYLE
    + """{% block style %}{% endblock %}</style>
</head>
<body>
{% block body %}{% endblock %}
</body>
</html>
"""
)

LAYOUT: Final = """{% extends "page.html" %}
{% block body %}
<header>
<h1>{% block heading %}License Service{% endblock %}</h1>
<p class="muted">version {{ version.version }} &middot;
{% if cluster_name and cluster_name != cluster_id %}
cluster <span id="cluster-name">{{ cluster_name }}</span>
(<code id="cluster-id">{{ cluster_id }}</code>)</p>
{% else %}
cluster <code id="cluster-id">{{ cluster_id }}</code></p>
{% endif %}
</header>
<main>
{% block main %}{% endblock %}
</main>
{% block script %}{% endblock %}
{% endblock %}
"""

INDEX: Final = (
    """{% extends "layout.html" %}
{% block main %}
<section id="access">
<h2>Access</h2>
<div class="fields">
<div>
<label for="api-token">API token</label>
<input id="api-token" type="password" autocomplete="off" spellcheck="false">
<p class="hint">Added to the links as <code>?token=</code>.</p>
</div>
<div>
<label for="service-account-token">Service-account token</label>
<input id="service-account-token" type="password" autocomplete="off" spellcheck="false">
<p class="hint">Sent by this page as <code>Authorization: Bearer</code>;
files then download from here.</p>
</div>
</div>
<p class="hint">The API token: <code>license-service token get --data-dir DIR</code>,
or in Kubernetes <code>kubectl get secret ibm-licensing-token -n NAMESPACE
-o jsonpath='{.data.token}' | base64 -d</code>.</p>
</section>

<section id="period">
<h2>Period</h2>
<div class="fields">
<div><label for="date-from">From (UTC day)</label>
<input id="date-from" type="date" value="{{ period.first.isoformat() }}"
 max="{{ today.isoformat() }}"></div>
<div><label for="date-to">To (UTC day, included)</label>
<input id="date-to" type="date" value="{{ period.last.isoformat() }}"
 max="{{ today.isoformat() }}"></div>
</div>
<p class="hint" id="period-hint">Default: the {{ period.days }} days ending today.
At most {{ max_days }} days.</p>
</section>

<section id="apis">
<h2>APIs</h2>
<table>
<thead><tr><th>API</th><th>Links</th><th>What it gives</th></tr></thead>
<tbody>
{% for api, links in apis %}
<tr>
<th scope="row"><code>{{ api.path }}</code></th>
<td>
{% for link in links %}
<a id="{{ link.id }}" href="{{ link.href }}" data-path="{{ api.path }}"
{%- if api.period %} data-period="1"{% endif %}
{%- if api.auth %} data-auth="1"{% endif %}
{%- if link.format %} data-format="{{ link.format }}"{% endif %}>{{ link.label }}</a>
{% endfor %}
</td>
<td>{{ api.description }}</td>
</tr>
{% endfor %}
</tbody>
</table>
<p id="result-status" class="muted" role="status"></p>
<pre id="result" hidden></pre>
</section>
{% endblock %}
{% block script %}
<script nonce="{{ nonce }}">"""
    + SCRIPT
    + """</script>
{% endblock %}
"""
)

STATUS: Final = """{% extends "layout.html" %}
{% from "macros.html" import chart_svg, table %}
{% macro facts(id, rows) %}
<table id="{{ id }}"><tbody>
{% for name, value in rows %}<tr><th scope="row">{{ name }}</th><td>{{ value }}</td></tr>
{% endfor %}
</tbody></table>
{% endmacro %}
{% macro facts_section(section_id, title, id, rows) %}
<section id="{{ section_id }}">
<h2>{{ title }}</h2>
{{ facts(id, rows) }}
</section>
{%- endmacro %}
{% block title %}License Service status{% endblock %}
{% block heading %}License Service status{% endblock %}
{% block main %}
<nav id="page-nav">
<a id="link-home" href="{{ links.home }}">All APIs, and any other period</a> &middot; Period:
{% for link in links.periods %}
<a id="{{ link.id }}" href="{{ link.href }}"
{%- if link.current %} class="current" aria-current="page"{% endif %}>{{ link.label }}</a>
{%- if not loop.last %} &middot;{% endif %}

{% endfor %}
</nav>
<p class="muted">Checked at <span id="checked-at">{{ page.checked_at }}</span>
&middot; build {{ version.build_date }} &middot; commit <code>{{ version.commit }}</code></p>

<section id="health">
<h2>Health: <span id="health-status" class="{{ page.health_class }}">{{ page.health_status }}</span>
</h2>
{% if page.warnings %}
<ul id="warnings">{% for warning in page.warnings %}<li>{{ warning }}</li>{% endfor %}</ul>
{% elif not page.problem_tables %}<p>No problem found.</p>{% endif %}
{% for problem_table in page.problem_tables %}
<h3>{{ problem_table.title }}</h3>
{{ table(problem_table.id, problem_table.head, problem_table.rows) }}
{% endfor %}
</section>

{{ facts_section("collector-state", "Collector", "collector", page.collector) }}

<section id="usage-now">
<h2>Usage now <span class="muted">({{ page.usage_now_at }})</span></h2>
<p id="usage-now-schedule" class="hint">{{ page.usage_now_schedule }}</p>
{% if page.usage_now_changes %}
<p id="usage-now-changes"><strong>{{ page.usage_now_changes }}</strong></p>
{% endif %}
{{ table("products-now", page.products_head, page.products_now, page.usage_now_empty) }}
{% if page.bundled_now %}
{{ table("bundled-products-now", page.bundled_head, page.bundled_now) }}
{% endif %}
</section>

<section id="period-peaks">
<h2>Peaks of {{ page.period_text }}</h2>
{% if page.first_day %}
<p class="muted">Data since <span id="first-day">{{ page.first_day }}</span>
(the first day with data kept).</p>
{% endif %}
{{ table("peaks", page.peaks_head, page.peaks, page.peaks_empty) }}
{% if page.bundled_peaks %}
{{ table("bundled-peaks", page.bundled_peaks_head, page.bundled_peaks) }}
{% endif %}
{% if page.explanations %}
<h3>Where the peaks come from</h3>
<ul id="explanations">{% for link in page.explanations %}
<li><a id="explain-{{ loop.index0 }}" href="{{ link.href }}">{{ link.label }}</a></li>{% endfor %}
</ul>
<p class="hint">Each opens the breakdown of that day's peak by namespace, workload and node
(<code>/usage_explained</code>), through the home page, which holds the token.</p>
{% endif %}
</section>

<section id="compliance">
<h2>Compliance of {{ page.period_text }}</h2>
<p class="hint">Each product's peak against the quantity entitled on its peak day:
OK below 80 %, NEAR from 80 % to 100 %, OVER above 100 %, UNENTITLED without an
entitlement.</p>
{{ table("compliance-rows", page.compliance.head, page.compliance.rows,
         "No usage and no entitlement in the period.") }}
{% for chart in page.compliance.charts %}
<figure id="{{ chart.id }}" class="usage-chart">
{% call chart_svg(chart) %}
{% if chart.entitlement_path %}
<path class="entitlement" d="{{ chart.entitlement_path }}" fill="none" stroke="#b00020"
 stroke-width="2" stroke-dasharray="6 4"><title>Entitlement</title></path>
{% endif %}
{% for segment in chart.segments %}
<polyline class="peaks" points="{{ segment }}" fill="none" stroke="#1565c0" stroke-width="2"/>
{% endfor %}
{% for point in chart.points %}
<circle class="peak" cx="{{ point.x }}" cy="{{ point.y }}" r="3" fill="#1565c0"
 data-day="{{ point.day }}" data-quantity="{{ point.quantity }}">
<title>{{ point.day }}: {{ point.quantity }}</title></circle>
{% endfor %}
{% endcall %}
<figcaption>{{ chart.title }}: {{ chart.description }}
{%- if chart.entitlement_path %} The dashed line is the entitlement.{% endif %}</figcaption>
<details><summary>The numbers</summary>
{{ table(chart.id ~ "-numbers", ("Day", "Daily peak", "Entitled"), chart.numbers) }}
</details>
</figure>
{% endfor %}
</section>

<section id="coverage">
<h2>Data coverage of {{ page.period_text }}</h2>
<p id="coverage-summary">{{ page.coverage_text }}</p>
{{ table("gaps", ("From", "To", "Reason"), page.gaps, "No gap.") }}
</section>

{{ facts_section(
    "authentication", "Authentication", "authentication-methods", page.authentication
) }}

{{ facts_section("audit", "Audit", "audit-facts", page.audit) }}
{% endblock %}
"""

REFUSED: Final = """{% extends "page.html" %}
{% block title %}License Service: {% if status == 401 %}sign in{% else %}{{ status }} {{ phrase }}
{%- endif %}{% endblock %}
{% block body %}
<header><h1>License Service status: {{ status }} {{ phrase }}</h1></header>
<main>
<p id="refusal" class="bad">{{ message }}</p>
<section id="how-to-get-in">
<h2>How to get in</h2>
<ul>
<li>Open <a id="link-home" href="/">the start page</a>, put the API token in its field and
follow the status page's link; or add <code>?token=&lt;API token&gt;</code> to this address.</li>
<li>The API token: <code>license-service token get --data-dir DIR</code>, or in Kubernetes
<code>kubectl get secret ibm-licensing-token -n NAMESPACE -o jsonpath='{.data.token}' |
base64 -d</code>.</li>
<li>A Kubernetes service-account token goes in the header
<code>Authorization: Bearer &lt;token&gt;</code>: the start page's second field sends it.</li>
</ul>
</section>
</main>
{% endblock %}
"""

TEMPLATES: Final = {
    "page.html": PAGE,
    "layout.html": LAYOUT,
    "index.html": INDEX,
    "status.html": STATUS,
    "refused.html": REFUSED,
    "macros.html": MACROS,
}
