"""The service's Secrets and the ``IBMLicensing`` resource, through the Kubernetes API.

``secret_access`` reads, creates and updates one Secret (the only verbs RBAC grants);
``licensing_resource`` follows the ``IBMLicensing`` resources.
"""
