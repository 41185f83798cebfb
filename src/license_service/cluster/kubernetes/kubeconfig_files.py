"""Which kubeconfig files a client outside the cluster reads, and which context, as kubectl does.

``kubectl`` and the official client read ``--kubeconfig FILE`` when it is given; else
every file of ``$KUBECONFIG``, a list separated by ``os.pathsep`` (``:`` on Linux) in
which files that do not exist are skipped; else ``~/.kube/config``. The files are
merged: the first file that names a cluster, user or context wins, and so does the
first ``current-context`` (the official client lets the last one win, so the context
is chosen here and handed to it). A ``$KUBECONFIG`` set to an empty string counts as
unset, as for kubectl.

This module reads the files only for their ``current-context`` and never imports the
Kubernetes client, so ``serve`` can choose how it reaches the cluster cheaply. Its
messages name files and contexts, never credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

KUBECONFIG_VARIABLE: Final = "KUBECONFIG"
DEFAULT_KUBECONFIG: Final = Path(".kube") / "config"


@dataclass(frozen=True, slots=True)
class KubeconfigFiles:
    """The kubeconfig files named, in order, and what named them (for messages)."""

    named: tuple[Path, ...]
    origin: str
    """``--kubeconfig``, ``$KUBECONFIG`` or ``~/.kube/config``."""

    @property
    def existing(self) -> tuple[Path, ...]:
        """The named files that exist, in order: the ones read."""
        return tuple(path for path in self.named if path.is_file())

    def describe(self) -> str:
        """The files and their origin: ``kubeconfig a:b ($KUBECONFIG)``."""
        shown = os.pathsep.join(str(path) for path in self.existing or self.named)
        if self.origin == "--kubeconfig":
            return f"kubeconfig {shown}"
        return f"kubeconfig {shown} ({self.origin})"

    def problem(self) -> str | None:
        """Why no kubeconfig can be read (no file exists), or ``None``."""
        if self.existing:
            return None
        if self.origin == "--kubeconfig":
            return f"--kubeconfig {self.named[0]}: no such file; give the path of a kubeconfig"
        if self.origin == f"${KUBECONFIG_VARIABLE}":
            listed = ", ".join(str(path) for path in self.named)
            return (
                f"${KUBECONFIG_VARIABLE} names {listed}, but no such file exists; fix "
                f"${KUBECONFIG_VARIABLE} or give --kubeconfig FILE"
            )
        return (
            f"{self.named[0]} does not exist; give --kubeconfig FILE or set ${KUBECONFIG_VARIABLE}"
        )

    def current_context(self) -> str | None:
        """The ``current-context`` of the first file that sets one, as kubectl chooses it."""
        for path in self.existing:
            try:
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue  # the client reports an unreadable file when it loads it
            if isinstance(document, Mapping):
                context = document.get("current-context")
                if isinstance(context, str) and context:
                    return context
        return None


def kubeconfig_files(
    given: Path | None, *, environ: Mapping[str, str] | None = None
) -> KubeconfigFiles:
    """The files a client reads: ``given``, else ``$KUBECONFIG``'s, else ``~/.kube/config``."""
    if given is not None:
        return KubeconfigFiles((given,), "--kubeconfig")
    environment = os.environ if environ is None else environ
    listed = environment.get(KUBECONFIG_VARIABLE, "")
    named = tuple(Path(os.path.expanduser(part)) for part in listed.split(os.pathsep) if part)
    if named:
        return KubeconfigFiles(named, f"${KUBECONFIG_VARIABLE}")
    home = environment.get("HOME")
    default = (Path(home) if home else Path.home()) / DEFAULT_KUBECONFIG
    return KubeconfigFiles((default,), f"~/{DEFAULT_KUBECONFIG}")
