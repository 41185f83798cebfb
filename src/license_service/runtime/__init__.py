"""The running service: everything ``serve`` and ``demo`` build from flags, run in one process.

``options`` checks the flags; ``paths`` lays out the data directory; ``backends``
says where the configuration, token, signing key and certificate are kept (files,
or a live cluster: ``kubernetes_backends``), chosen once by the command; ``wiring``
(the composition root) builds the store, those parts, the authenticator, the
sampler and the web application's state from them; ``service`` runs the sampler,
the backends' watchers, the prune job and the two HTTP servers (API and metrics)
in one asyncio loop until SIGINT or SIGTERM. Nothing is built at import time.
"""
