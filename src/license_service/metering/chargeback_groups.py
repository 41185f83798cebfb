"""Chargeback groups (SPEC 8): which namespaces make a group, and each group's usage; pure.

A namespace labelled ``ibm-chargeback-group=<group>`` belongs to that group; an
unlabelled one to none. The name ``default`` is reserved: a namespace labelled so is
in no group and is reported (``reserved``) so that ``/health`` can warn. Groups are
read from the view of each sample, so a label change applies from the next sample
and never backwards.

``measure_groups`` measures the cluster and every group in one pass
(``measuring.measure_in_groups``): each group is measured exactly as the cluster is,
restricted to its namespaces' pods, so per-node capping and the single round-up apply
per group, and the sum over groups can exceed the cluster's value. ``NamespaceGroups``
is also what restricts pods to a group elsewhere (``group_of``, ``namespaces_of``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from license_service.metering.cluster_view import ClusterView, Namespace
from license_service.metering.measuring import GroupedMeasurement, measure_in_groups
from license_service.metering.settings import MeteringSettings

GROUP_LABEL: Final = "ibm-chargeback-group"
RESERVED_GROUP: Final = "default"
# A Kubernetes label value; the API server enforces it, dump files may not have.
_LABEL_VALUE: Final = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", re.ASCII)
_LISTED: Final = 20


@dataclass(frozen=True, slots=True)
class NamespaceGroups:
    """The groups of a cluster at one instant: ``group_of`` maps a namespace to its group.

    ``reserved`` names the namespaces labelled with the reserved group ``default``;
    ``invalid`` those whose label is no Kubernetes label value (never stored as a group).
    """

    group_of: Mapping[str, str]
    reserved: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @classmethod
    def from_namespaces(cls, namespaces: Iterable[Namespace]) -> NamespaceGroups:
        """The groups the ``ibm-chargeback-group`` labels of ``namespaces`` make."""
        group_of: dict[str, str] = {}
        reserved: list[str] = []
        invalid: list[str] = []
        for namespace in namespaces:
            group = namespace.labels.get(GROUP_LABEL)
            if not group:
                continue
            if group == RESERVED_GROUP:
                reserved.append(namespace.name)
            elif _LABEL_VALUE.fullmatch(group):
                group_of[namespace.name] = group
            else:
                invalid.append(namespace.name)
        return cls(group_of, tuple(sorted(reserved)), tuple(sorted(invalid)))

    def namespaces_of(self) -> dict[str, list[str]]:
        """Each group's namespaces, groups and namespaces sorted by name."""
        grouped: dict[str, list[str]] = {}
        for namespace, group in sorted(self.group_of.items()):
            grouped.setdefault(group, []).append(namespace)
        return dict(sorted(grouped.items()))

    def warnings(self) -> list[str]:
        """The ``/health`` warnings: namespaces labelled ``default``, or with a bad value."""
        found = []
        if self.reserved:
            found.append(
                f"{len(self.reserved)} namespace(s) labelled {GROUP_LABEL}={RESERVED_GROUP}, a "
                f"reserved group name, belong to no chargeback group: {_names(self.reserved)}; "
                "label them with another group name"
            )
        if self.invalid:
            found.append(
                f"{len(self.invalid)} namespace(s) labelled {GROUP_LABEL} with a value that is "
                f"not a label value belong to no chargeback group: {_names(self.invalid)}; use "
                "letters, digits, '-', '_' and '.', at most 63 characters"
            )
        return found


def _names(namespaces: tuple[str, ...]) -> str:
    shown = ", ".join(namespaces[:_LISTED])
    return shown + (" ..." if len(namespaces) > _LISTED else "")


def namespace_groups(view: ClusterView) -> NamespaceGroups:
    """The chargeback groups of ``view``, as labelled at that instant."""
    return NamespaceGroups.from_namespaces(view.namespaces)


def measure_groups(view: ClusterView, settings: MeteringSettings) -> GroupedMeasurement:
    """The cluster's measurement and each chargeback group's (SPEC 8), in one pass; pure."""
    return measure_in_groups(view, settings, namespace_groups(view).group_of)
