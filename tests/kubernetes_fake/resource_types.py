"""The resource types the fake API server serves, described once.

Everything that depends on the kind of object (URL shape, scope, list kind, discovery entry,
which field selectors work, which patch types are accepted) reads it from this table, so the
discovery documents and the REST behaviour cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives, what it is called and how it behaves."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Field selectors the real server supports for this type, beyond metadata.name/namespace.
    field_labels: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # Custom resources: only JSON/merge patch and apply; generation tracked on spec changes.
    custom: bool = False
    stored: bool = True
    categories: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The resource's qualified name (``pods``, ``ibmlicensings.operator.ibm.com``)."""
        return self.plural if not self.group else f"{self.plural}.{self.group}"

    @property
    def api_version(self) -> str:
        """The apiVersion objects of this type carry (``v1`` or ``group/version``)."""
        return self.version if not self.group else f"{self.group}/{self.version}"

    @property
    def group_version_path(self) -> str:
        """The URL prefix of the type's API group version."""
        return f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"

    @property
    def list_kind(self) -> str:
        """The kind of a list of these objects."""
        return f"{self.kind}List"


PODS = ResourceType(
    group="",
    version="v1",
    plural="pods",
    singular="pod",
    kind="Pod",
    namespaced=True,
    short_names=("po",),
    field_labels=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "status.phase"),
    subresources=("status",),
    categories=("all",),
)
NODES = ResourceType(
    group="",
    version="v1",
    plural="nodes",
    singular="node",
    kind="Node",
    namespaced=False,
    short_names=("no",),
    field_labels=("spec.unschedulable",),
    subresources=("status",),
)
NAMESPACES = ResourceType(
    group="",
    version="v1",
    plural="namespaces",
    singular="namespace",
    kind="Namespace",
    namespaced=False,
    short_names=("ns",),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    field_labels=("status.phase",),
    subresources=("status",),
)
SECRETS = ResourceType(
    group="",
    version="v1",
    plural="secrets",
    singular="secret",
    kind="Secret",
    namespaced=True,
    field_labels=("type",),
)
CONFIG_MAPS = ResourceType(
    group="",
    version="v1",
    plural="configmaps",
    singular="configmap",
    kind="ConfigMap",
    namespaced=True,
    short_names=("cm",),
)
IBM_LICENSINGS = ResourceType(
    group="operator.ibm.com",
    version="v1alpha1",
    plural="ibmlicensings",
    singular="ibmlicensing",
    kind="IBMLicensing",
    namespaced=False,
    subresources=("status",),
    custom=True,
)
TOKEN_REVIEWS = ResourceType(
    group="authentication.k8s.io",
    version="v1",
    plural="tokenreviews",
    singular="tokenreview",
    kind="TokenReview",
    namespaced=False,
    verbs=("create",),
    stored=False,
)
SUBJECT_ACCESS_REVIEWS = ResourceType(
    group="authorization.k8s.io",
    version="v1",
    plural="subjectaccessreviews",
    singular="subjectaccessreview",
    kind="SubjectAccessReview",
    namespaced=False,
    verbs=("create",),
    stored=False,
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    PODS,
    NODES,
    NAMESPACES,
    SECRETS,
    CONFIG_MAPS,
    IBM_LICENSINGS,
    TOKEN_REVIEWS,
    SUBJECT_ACCESS_REVIEWS,
)


def find_resource_type(group: str, version: str, plural: str) -> ResourceType | None:
    """The served type at ``group/version/plural``, or None when the fake does not serve it."""
    for resource_type in RESOURCE_TYPES:
        if (resource_type.group, resource_type.version, resource_type.plural) == (
            group,
            version,
            plural,
        ):
            return resource_type
    return None


def resource_type_of(api_version: str, kind: str) -> ResourceType | None:
    """The served type of objects with this apiVersion and kind, or None."""
    for resource_type in RESOURCE_TYPES:
        if resource_type.api_version == api_version and resource_type.kind == kind:
            return resource_type
    return None


def group_versions() -> dict[str, list[str]]:
    """Served API groups (``""`` is the core group) and their versions, in serving order."""
    groups: dict[str, list[str]] = {}
    for resource_type in RESOURCE_TYPES:
        versions = groups.setdefault(resource_type.group, [])
        if resource_type.version not in versions:
            versions.append(resource_type.version)
    return groups
