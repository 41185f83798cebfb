"""The HTTPS certificate of ``spec.httpsEnable`` (SPEC 6): self-signed ``certificates``, and
``secret_store``, the Kubernetes Secret that keeps it."""
