"""The service's Secrets and the ``IBMLicensing`` resource, through the Kubernetes API.

``secret_access`` reads, creates and updates one Secret (the only verbs RBAC grants),
``licensing_resource`` follows the ``IBMLicensing`` resources, ``followed_objects``
holds what every followed object shares, and ``namespace`` decides where the
Secrets live. What a Secret holds is judged by its concern: ``tokens``, ``signing``,
``tls``. Only ``secret_access`` and ``licensing_resource`` here import the client.
"""
