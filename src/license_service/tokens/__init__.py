"""The API token (SPEC 4.2-4.3): its rules, where it is kept, and the token in force.

Modules: ``rules`` (what a token may hold, the generator; pure), ``followed`` (the
``TokenSource`` protocol and ``FollowedToken``: the token in force and the grace
period, written once), the file backend (``file_store``: the token file;
``file_source``: the file followed while the server runs) and the Kubernetes
backend side by side (``secret_store``: the token Secret; ``secret_source``: the
Secret followed), and which Secret ``license-service token`` acts on
(``cluster_flags``, ``cluster_secret``). Nothing here logs or formats a token.
"""
