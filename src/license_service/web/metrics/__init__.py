"""The metrics port (SPEC 3.9): ``/metrics`` and the collectors it exposes, read at scrape time.

``metrics_app`` serves a registry it is given; ``usage_metrics`` (usage gauges and
sampler counters) and ``kubernetes_metrics`` (list/watch figures) are collectors.
The API's own request figures live with their middleware (``middleware.request_metrics``).
"""
