"""The API token (SPEC 4.2-4.3): ``secret_store``, its Kubernetes Secret."""
