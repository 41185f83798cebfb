"""Authentication of API requests with the API token (SPEC 4.1-4.4, 4.6).

Parsing of the query string and ``Authorization`` header is pure
(``credentials``); the token itself, its rules and where it is kept belong to
``license_service.tokens``; an ``Authenticator`` turns credentials into an
``Identity`` or a ``Denied`` answer (``authenticators``), slowing down clients that keep
failing (``failed_attempts``). Nothing here raises on a bad request: denials
are values, turned into HTTP responses once, in the web layer. No module here
ever logs or formats a token.
"""
