"""Where the API token lives outside Kubernetes when no ``--token-file`` is given (SPEC 4.2).

One place for the default data directory and the token file's name inside it,
so the server and ``license-service token`` always act on the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

DEFAULT_DATA_DIR: Final = Path("license-service-data")
"""The data directory used when ``--data-dir`` is not given (relative to the working directory)."""
# The file's name, not a token.
DATA_DIR_TOKEN_FILE: Final = "api-token"  # noqa: S105


def token_file_path(data_dir: Path) -> Path:
    """The API token file of the server whose data directory is ``data_dir``."""
    return data_dir / DATA_DIR_TOKEN_FILE
