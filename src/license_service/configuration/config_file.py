"""Reading the ``IBMLicensing`` configuration from a YAML file (``--config``, SPEC 6).

The file holds the same document as the custom resource: written by hand, or saved
with ``kubectl get ibmlicensing instance -o yaml``. A saved list
(``kubectl get ibmlicensings -o yaml``) or a multi-document file also works: the
``IBMLicensing`` documents in it are found and the oldest wins, as in a cluster.
Every failure is a ``ConfigurationError`` whose one-line message starts with the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import cast

import yaml

from license_service.configuration.ibmlicensing import (
    KIND,
    LicensingConfig,
    oldest_ibmlicensing,
    parse_ibmlicensing,
)
from license_service.configuration.yaml_documents import describe_yaml_error, load_yaml_documents
from license_service.errors import ConfigurationError


def load_licensing_file(path: Path) -> LicensingConfig:
    """Read and parse the ``IBMLicensing`` YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"{path}: configuration file not found; give the path of an {KIND} YAML file"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {KIND} document as UTF-8 YAML"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read the configuration file: {exc.strerror or exc}"
        ) from exc
    return parse_licensing_yaml(text, source=str(path))


def parse_licensing_yaml(text: str, *, source: str) -> LicensingConfig:
    """Parse YAML ``text`` holding an ``IBMLicensing`` document; ``source`` names it in errors."""
    try:
        documents = load_yaml_documents(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML: {describe_yaml_error(exc)}") from exc
    present = [document for document in documents if document is not None]
    if not present:
        raise ConfigurationError(
            f"{source}: the file holds no document; write an {KIND} document "
            "(apiVersion, kind, spec)"
        )
    candidates = list(_ibmlicensing_documents(present))
    chosen: object
    if candidates:
        chosen = oldest_ibmlicensing(candidates)
    elif len(present) == 1:
        chosen = present[0]  # parsed anyway, so that the error names what the document is
    else:
        raise ConfigurationError(
            f"{source}: none of the {len(present)} documents is of kind {KIND}; "
            f"add an {KIND} document"
        )
    try:
        return parse_ibmlicensing(chosen)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{source}: {exc}") from exc


def _ibmlicensing_documents(documents: list[object]) -> Iterator[Mapping[str, object]]:
    """The IBMLicensing documents, looking inside ``List`` documents too."""
    for document in documents:
        if not isinstance(document, Mapping):
            continue
        if document.get("kind") == KIND:
            yield cast(Mapping[str, object], document)
        elif document.get("kind") in ("List", f"{KIND}List"):
            items = document.get("items")
            if isinstance(items, list):
                # One level only: kubectl writes flat lists, and YAML aliases can make a
                # list that holds itself.
                yield from (
                    cast(Mapping[str, object], item)
                    for item in items
                    if isinstance(item, Mapping) and item.get("kind") == KIND
                )
