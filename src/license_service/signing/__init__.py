"""The key that signs audit snapshots (SPEC 5): ``secret_store``, its Kubernetes Secret."""
