"""The API token (SPEC 4.2-4.3): its rules, its file and its Kubernetes Secret, followed."""
