"""The running service: everything ``serve`` and ``demo`` build from flags, run in one process.

``options`` checks the flags; ``paths`` lays out the data directory; ``assembly``
builds the store, token file, signing key, authenticator, configuration watcher,
sampler and the web application's state; ``service`` runs the sampler, the
watchers, the prune job and the two HTTP servers (API and metrics) in one
asyncio loop until SIGINT or SIGTERM. Nothing is built at import time.
"""
