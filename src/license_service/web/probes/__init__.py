"""What the service says about itself: ``/health``, ``/readyz``, ``/livez`` and ``/version``.

``health`` builds the ``/health`` document (pure), ``readiness`` decides ``/readyz``,
``version_info`` holds the build's version, and ``service_routes`` are their handlers.
"""
