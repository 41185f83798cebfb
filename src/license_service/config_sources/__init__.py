"""The ``IBMLicensing`` configuration in force (SPEC 6), followed while the service runs.

``source`` holds the ``LicensingConfigSource`` protocol and ``FollowedConfig``, what
both sources share (the configuration kept when a new one is invalid, the
listeners, the log of changes); the file backend (``file_source``: ``--config``) and
the Kubernetes backend (``resource_source``: the ``IBMLicensing`` resource, handed
over by ``secrets.licensing_resource``) sit side by side; ``changes`` says what
changed, field by field. Parsing the document is ``configuration``'s (pure).
"""
