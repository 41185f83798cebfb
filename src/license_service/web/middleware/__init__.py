"""ASGI middleware of the API app: what every request goes through before and after its route.

``access_log`` (one line per request, ``token=***``), ``request_metrics`` (requests,
latency and refusals by path, for ``/metrics``), ``security_headers`` (``no-store``,
``no-referrer``, ``nosniff``, a CSP on every answer) and ``request_limits`` (oversized
paths, queries and headers refused before routing). Each is independent of the routes.
"""
