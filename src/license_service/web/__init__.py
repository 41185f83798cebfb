"""The HTTP API (SPEC 3): report endpoints, pages, health, snapshots and ``/metrics``.

Starlette apps built from an ``AppState`` (``application.create_app`` for the API,
``metrics_app.create_metrics_app`` for the metrics port). Handlers are thin: they
parse the query (``period_parameters``), call the store or the audit package in a
worker thread, and serialise. Errors become responses in one place
(``error_responses``); authentication is one gate (``authentication``).
"""
