"""The HTTPS certificate of ``spec.httpsEnable`` (SPEC 6): made, kept, and served from files.

``certificates`` makes self-signed pairs (pure but for the random key); the file
backend (``file_store``: the data directory's ``tls.crt``/``tls.key``, which the server
reads) and the Kubernetes backend (``secret_store``: the self-signed Secret, or the
operator's) sit side by side. No protocol joins them: the pair of a Secret is read at
start and copied into the files, which are what the server serves
(``file_store.served_tls_files``).
"""
