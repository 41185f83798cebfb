"""The Jinja2 macros the pages share (``macros.html``): a table, and a chart's SVG frame.

License Service's ``/status`` and the Reporter's page (``web.reporter``) import them
(``{% from "macros.html" import table, chart_svg %}``), so both draw their tables and
charts alike. Everything is escaped by autoescape.

- ``table(id, head, rows, empty)``: a table of cells; numbers right-aligned; a
  "Metric" column breaks only after an underscore (``word_breaks``).
- ``chart_svg(chart)``, called with a body (``{% call chart_svg(chart) %}``): an
  accessible inline SVG (``role="img"``, ``<title>``, ``<desc>``) with its axes, the
  top and zero labels and the first and last day, around the body's marks. ``chart``
  has ``id``, ``title``, ``description``, ``width``, ``height``, ``left``, ``top``,
  ``bottom_y``, ``right_x``, ``top_label``, ``first_day`` and ``last_day``.
"""

from __future__ import annotations

from typing import Final

MACROS: Final = """{% macro table(id, head, rows, empty="None.") %}
<table id="{{ id }}">
<thead><tr>{% for heading in head %}<th>{{ heading }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}
<tr>{% for cell in row %}
{% if head[loop.index0] == "Metric" %}
<td class="words">
{%- for part in cell | word_parts %}{{ part }}{% if not loop.last %}<wbr>{% endif %}{% endfor -%}
</td>
{%- else %}
<td{% if cell is number %} class="number"{% endif %}>{{ cell }}</td>
{%- endif %}
{% endfor %}</tr>
{% else %}
<tr><td colspan="{{ head | length }}">{{ empty }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endmacro %}
{% macro chart_svg(chart) %}
<svg class="chart" role="img" aria-labelledby="{{ chart.id }}-title {{ chart.id }}-desc"
 viewBox="0 0 {{ chart.width }} {{ chart.height }}" width="100%" height="{{ chart.height }}"
 preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">
<title id="{{ chart.id }}-title">{{ chart.title }}</title>
<desc id="{{ chart.id }}-desc">{{ chart.description }}</desc>
<line x1="{{ chart.left }}" y1="{{ chart.bottom_y }}" x2="{{ chart.right_x }}"
 y2="{{ chart.bottom_y }}" stroke="currentColor" stroke-opacity="0.4"/>
<line x1="{{ chart.left }}" y1="{{ chart.top }}" x2="{{ chart.left }}"
 y2="{{ chart.bottom_y }}" stroke="currentColor" stroke-opacity="0.4"/>
<text x="{{ chart.left - 4 }}" y="{{ chart.top + 4 }}" text-anchor="end" font-size="11"
 fill="currentColor">{{ chart.top_label }}</text>
<text x="{{ chart.left - 4 }}" y="{{ chart.bottom_y }}" text-anchor="end" font-size="11"
 fill="currentColor">0</text>
<text x="{{ chart.left }}" y="{{ chart.height - 8 }}" font-size="11"
 fill="currentColor">{{ chart.first_day }}</text>
<text x="{{ chart.right_x }}" y="{{ chart.height - 8 }}" text-anchor="end" font-size="11"
 fill="currentColor">{{ chart.last_day }}</text>
{{ caller() }}
</svg>
{% endmacro %}
"""
