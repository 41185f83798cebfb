"""What ``/version`` reports: the package version, and the build date and commit of the image.

The build date and commit come from ``LICENSE_SERVICE_BUILD_DATE`` and
``LICENSE_SERVICE_COMMIT``, set by the image build. ``version_info_from`` takes the
environment as a parameter: the caller reads it once at startup, never this module
at import time. A value that is not set reads ``"unknown"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypedDict

from license_service import __version__

BUILD_DATE_VARIABLE: Final = "LICENSE_SERVICE_BUILD_DATE"
COMMIT_VARIABLE: Final = "LICENSE_SERVICE_COMMIT"
UNKNOWN: Final = "unknown"


class VersionDocument(TypedDict):
    """The ``/version`` body (SPEC 3.5)."""

    version: str
    buildDate: str
    commit: str


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """Which build of License Service is running."""

    version: str = __version__
    build_date: str = UNKNOWN
    commit: str = UNKNOWN

    def document(self) -> VersionDocument:
        """The ``/version`` body."""
        return {"version": self.version, "buildDate": self.build_date, "commit": self.commit}


def version_info_from(environ: Mapping[str, str]) -> VersionInfo:
    """The version of this build, with the build date and commit ``environ`` gives."""
    return VersionInfo(
        version=__version__,
        build_date=environ.get(BUILD_DATE_VARIABLE, "").strip() or UNKNOWN,
        commit=environ.get(COMMIT_VARIABLE, "").strip() or UNKNOWN,
    )
