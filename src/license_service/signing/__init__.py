"""The key that signs audit snapshots (SPEC 5): the key (``keys``) and its Kubernetes Secret."""
