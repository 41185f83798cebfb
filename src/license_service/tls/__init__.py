"""The HTTPS certificate of ``spec.httpsEnable`` (SPEC 6): self-signed ``certificates``, the
files the server reads (``file_store``) and the Kubernetes Secret (``secret_store``)."""
