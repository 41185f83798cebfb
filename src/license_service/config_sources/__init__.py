"""The ``IBMLicensing`` configuration in force (SPEC 6), followed while the service runs:
from the ``--config`` file (``file_source``) or the ``IBMLicensing`` resource
(``resource_source``), both a ``source.LicensingConfigSource``."""
