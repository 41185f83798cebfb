"""The one exception hierarchy of License Service.

Every error the project raises on purpose derives from ``LicenseServiceError``.
Messages give the offending value, what was wrong with it and how to fix it.
Errors are mapped to exit codes once (in ``cli``) and to HTTP responses once
(in ``web``)::

    LicenseServiceError               base; never raised itself
    +-- ConfigurationError            a setting or IBMLicensing document is invalid
    +-- InputError                    an input file (cluster dump) cannot be used
    |   +-- UploadRefusedError        a server refused an upload (the CLI's ``upload``)
    +-- AnnotationError               a value on a pod cannot be interpreted
    |   +-- InvalidQuantityError      a CPU quantity string is not a Kubernetes quantity
    |   +-- InvalidRatioError         productCloudpakRatio is not "<a>:<b>" of positive numbers
    |   +-- InvalidPatternError       a productChargedContainers entry is not a valid pattern
    +-- StorageError                  the database cannot be used
    |   +-- SchemaTooNewError         the database was written by a newer version
    |   +-- DamagedDatabaseError      a SQLite file fails its integrity check (left unchanged)
    |   +-- EmptyDatabaseError        no store (missing, 0 bytes, no tables) where one was required
    +-- ClusterError                  the cluster state cannot be read
    +-- AuditError                    an audit snapshot cannot be built (signing key, names)
    |   +-- SnapshotVerificationError a file given to verify cannot be read as a snapshot
    |                                 (also an InputError: an unusable input file, exit code 2)
    +-- AuthenticationError           the API token cannot be read, stored or used
    |   +-- InvalidTokenError         a token breaks the SPEC 4.3 rules (also a
    |   |                             ConfigurationError: a refused setting, exit code 2)
    |   +-- MissingTokenError         no API token where a command was told to look (also
    |                                 a ConfigurationError: a wrong flag, exit code 2)
    +-- RequestError                  an HTTP request's parameters are invalid (answered 400)
        +-- NoSuchDataError           valid parameters that name nothing stored (answered 404)
"""

from __future__ import annotations


class LicenseServiceError(Exception):
    """Base of every error License Service raises on purpose."""


class ConfigurationError(LicenseServiceError):
    """A setting or an IBMLicensing document is invalid; the message lists every problem."""


class InputError(LicenseServiceError):
    """An input file cannot be read or is not a Kubernetes object list."""


class UploadRefusedError(InputError):
    """The server refused ``license-service upload``: its status and message say why."""


class AnnotationError(LicenseServiceError):
    """A value written on a pod (annotation or resource) cannot be interpreted."""


class InvalidQuantityError(AnnotationError):
    """A CPU quantity is not a valid, non-negative Kubernetes quantity."""


class InvalidRatioError(AnnotationError):
    """A ``productCloudpakRatio`` is not ``<a>:<b>`` with two positive numbers."""


class InvalidPatternError(AnnotationError):
    """A ``productChargedContainers`` entry is not a valid name or regular expression."""


class StorageError(LicenseServiceError):
    """The database cannot be opened, migrated, read or written."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer License Service; it is left untouched."""


class DamagedDatabaseError(StorageError):
    """A SQLite file fails ``PRAGMA quick_check`` or is not a database; it is left untouched."""


class EmptyDatabaseError(StorageError):
    """The database holds no store (absent, 0 bytes, no tables) where the caller expected one."""


class ClusterError(LicenseServiceError):
    """The state of the cluster cannot be read from its source."""


class RequestError(LicenseServiceError):
    """An HTTP request's parameters (dates, ``metricName``, ``format``) cannot be used."""


class AuthenticationError(LicenseServiceError):
    """The API token cannot be read, stored or used (its file is missing or unwritable)."""


class InvalidTokenError(AuthenticationError, ConfigurationError):
    """A token value breaks the SPEC 4.3 rules; the message names the character and position.

    It is also a ``ConfigurationError``: a refused token is a refused setting.
    The message never holds the token itself.
    """


class MissingTokenError(AuthenticationError, ConfigurationError):
    """No API token where a command was told to look: no token file, no token Secret.

    It is also a ``ConfigurationError``: a wrong ``--data-dir``, ``--token-file`` or
    ``--namespace`` is a wrong command line (or the service never started there).
    """


class AuditError(LicenseServiceError):
    """An audit snapshot cannot be built: unusable signing key, cluster id unfit for file names."""


class SnapshotVerificationError(AuditError, InputError):
    """A snapshot (or trusted key) given to verify cannot be read at all.

    It is also an ``InputError``: an unusable input file. A snapshot that can be read
    but fails a check is not an error: ``verify_snapshot`` reports it as a finding.
    """


class NoSuchDataError(RequestError):
    """A request's parameters are valid but name nothing stored (a product, a day)."""
