"""Where the entitlements in force come from (SPEC 13): a file, or the cluster's ConfigMap.

``followed`` keeps the entitlements in force and refuses an invalid document without
losing them; ``file_source`` follows ``--entitlements FILE``; the ConfigMap
``license-service-entitlements`` is watched by ``secrets.entitlements_configmap``,
which hands its text to a ``FollowedEntitlements``.
"""
