"""The key that signs audit snapshots (SPEC 5): the key itself and where it is kept.

``keys`` holds ``SigningKey`` and the ``SigningKeyStore`` protocol; the file backend
(``file_store``: ``signing-key.pem``, mode 0600) and the Kubernetes backend
(``secret_store``: Secret ``license-service-signing-key``) sit side by side. Both
generate a key once and never replace a kept one.
"""
