"""The HTTP API (SPEC 3): report endpoints, pages, health, snapshots and ``/metrics``.

Starlette apps built from an ``AppState`` (``application.create_app`` for the API,
``metrics.metrics_app.create_metrics_app`` for the metrics port). Handlers are thin:
they parse the query (``reports.period_parameters``), call the store or the audit
package in a worker thread, and serialise. Errors become responses in one place
(``error_responses``); authentication is one gate (``authentication``).

Grouped by what they serve: this package holds the app, its state, the gate, error
answers and the OpenAPI document; ``middleware/`` what every request goes through;
``reports/`` the data endpoints over a period; ``pages/`` the HTML pages;
``probes/`` health, readiness and version; ``metrics/`` the metrics port.
"""
