"""The RBAC rules grant the service what its code calls, and nothing more (SPEC 4.5, 7).

``SERVICE_CALLS`` is the table of the Kubernetes API calls the service makes; the rules
bound to its ServiceAccount, expanded into single permissions, must equal it exactly (plus
the ``get`` that SPEC 7 lists and that reads nothing ``list`` does not). When the code
starts making another call, add it to the table AND to the chart; when it stops, remove it
from both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from license_service.auth.service_accounts import (
    READER_CLUSTER_ROLE,
    READER_TOKEN_SECRET,
    REVIEWED_VERB,
)
from license_service.configuration.entitlement_documents import (
    CONFIGMAP_NAME as ENTITLEMENTS_CONFIGMAP,
)
from license_service.configuration.ibmlicensing import DEFAULT_API_SECRET_TOKEN
from license_service.configuration.sender_settings import DEFAULT_REPORTER_SECRET_TOKEN
from license_service.signing.secret_store import SIGNING_KEY_SECRET
from license_service.tls.secret_store import CUSTOM_TLS_SECRET, SELF_SIGNED_TLS_SECRET
from license_service.tokens.kinds import UPLOAD_CONFIG_MAP, UPLOAD_TOKEN
from license_service.web.application import PROTECTED_PATHS
from tests.deploy.chart import (
    NAMESPACE,
    READER_NAME,
    SERVICE_NAME,
    find,
    manifest_objects,
    of_kind,
    rendered_objects,
)

CLUSTER: Final = "(cluster)"
ANY: Final = "(any name)"
NON_RESOURCE: Final = "(non-resource URL)"
OWNED_SECRETS: Final = (
    DEFAULT_API_SECRET_TOKEN,
    UPLOAD_TOKEN.secret_name,
    SIGNING_KEY_SECRET,
    SELF_SIGNED_TLS_SECRET,
)


@dataclass(frozen=True, slots=True, order=True)
class Permission:
    """One verb on one resource, cluster-wide or in a namespace, on any object or one name."""

    api_group: str
    resource: str
    verb: str
    scope: str
    name: str


# What the service calls: (api group, resource, verbs, where, names, who and why).
SERVICE_CALLS: Final = (
    ("", "pods", ("list", "watch"), CLUSTER, (ANY,), "collector: paged list, then watch"),
    ("", "nodes", ("list", "watch"), CLUSTER, (ANY,), "collector: capacity of each node"),
    ("", "namespaces", ("list", "watch"), CLUSTER, (ANY,), "collector; kube-system uid = id"),
    ("", "namespaces", ("get",), CLUSTER, (ANY,), "start: the service's namespace exists"),
    (
        "operator.ibm.com",
        "ibmlicensings",
        ("get", "list", "watch"),
        CLUSTER,
        (ANY,),
        "configuration: the oldest IBMLicensing, followed live",
    ),
    ("authentication.k8s.io", "tokenreviews", ("create",), CLUSTER, (ANY,), "bearer: who?"),
    (
        "authorization.k8s.io",
        "subjectaccessreviews",
        ("create",),
        CLUSTER,
        (ANY,),
        "bearer: may they GET this path?",
    ),
    (
        "",
        "secrets",
        ("get", "list", "watch", "update"),
        NAMESPACE,
        OWNED_SECRETS,
        "token: read, follow (list+watch by metadata.name), rotate; signing key, tls: read",
    ),
    ("", "secrets", ("get",), NAMESPACE, (CUSTOM_TLS_SECRET,), "httpsCertsSource custom: read"),
    (
        "",
        "secrets",
        ("get",),
        NAMESPACE,
        (DEFAULT_REPORTER_SECRET_TOKEN,),
        "sender (SPEC 11): the Reporter's token, read before each round of pushes",
    ),
    (
        "",
        "configmaps",
        ("list", "watch"),
        NAMESPACE,
        (ENTITLEMENTS_CONFIGMAP,),
        "entitlements: follow (list+watch by metadata.name)",
    ),
    (
        "",
        "configmaps",
        ("get", "update"),
        NAMESPACE,
        (UPLOAD_CONFIG_MAP,),
        "upload config (SPEC 10): read, rewrite at start",
    ),
    ("", "configmaps", ("create",), NAMESPACE, (ANY,), "create the upload config when missing"),
    (
        "",
        "secrets",
        ("create",),
        NAMESPACE,
        (ANY,),
        "create a missing owned Secret; RBAC cannot limit create by name",
    ),
)
# Granted beyond the calls, because SPEC 7 lists them; each reads nothing `list` does not.
SPEC_ONLY: Final = (
    ("", "pods", ("get",), CLUSTER, (ANY,), "SPEC 7"),
    ("", "nodes", ("get",), CLUSTER, (ANY,), "SPEC 7"),
)
READER_URLS: Final = (
    "/products",
    "/snapshot",
    "/bundled_products",
    "/services",
    "/health",
    "/status",
    "/compliance",
    "/usage_explained",
    "/chargeback_groups",
)


def _expanded(rows: Iterable[tuple[Any, ...]]) -> set[Permission]:
    return {
        Permission(group, resource, verb, scope, name)
        for group, resource, verbs, scope, names, _why in rows
        for verb in verbs
        for name in names
    }


def _rule_permissions(rule: dict[str, Any], scope: str) -> Iterator[Permission]:
    for url in rule.get("nonResourceURLs", []):
        for verb in rule["verbs"]:
            yield Permission(NON_RESOURCE, url, verb, scope, ANY)
    for group in rule.get("apiGroups", []):
        for resource in rule.get("resources", []):
            for verb in rule["verbs"]:
                for name in rule.get("resourceNames") or [ANY]:
                    yield Permission(group, resource, verb, scope, name)


def _is_subject(binding: dict[str, Any], account: str, namespace: str) -> bool:
    return any(
        subject == {"kind": "ServiceAccount", "name": account, "namespace": namespace}
        for subject in binding.get("subjects", [])
    )


def _roles_of(
    objects: list[dict[str, Any]], account: str, namespace: str = NAMESPACE
) -> list[tuple[dict[str, Any], str]]:
    """The (Cluster)Roles bound to a ServiceAccount, each with the scope it applies in."""
    roles = []
    for binding in of_kind(objects, "ClusterRoleBinding") + of_kind(objects, "RoleBinding"):
        if not _is_subject(binding, account, namespace):
            continue
        reference = binding["roleRef"]
        assert reference["apiGroup"] == "rbac.authorization.k8s.io"
        if binding["kind"] == "ClusterRoleBinding":
            assert reference["kind"] == "ClusterRole"
            roles.append((find(objects, "ClusterRole", reference["name"]), CLUSTER))
        else:
            role = find(objects, reference["kind"], reference["name"])
            if role["kind"] == "Role":
                assert role["metadata"]["namespace"] == binding["metadata"]["namespace"]
            roles.append((role, binding["metadata"]["namespace"]))
    return roles


def _granted(objects: list[dict[str, Any]], account: str) -> set[Permission]:
    return {
        permission
        for role, scope in _roles_of(objects, account)
        for rule in role["rules"]
        for permission in _rule_permissions(rule, scope)
    }


def test_the_service_is_granted_exactly_what_it_calls_and_what_spec_7_lists() -> None:
    granted = _granted(manifest_objects(), SERVICE_NAME)
    expected = _expanded(SERVICE_CALLS) | _expanded(SPEC_ONLY)
    assert sorted(granted - expected) == [], "granted but never called"
    assert sorted(expected - granted) == [], "called but not granted"


def test_no_rule_uses_a_wildcard() -> None:
    for role in of_kind(manifest_objects(), "ClusterRole") + of_kind(manifest_objects(), "Role"):
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert not any("*" in item for item in rule.get(key, [])), (
                    role["metadata"]["name"],
                    key,
                )


def test_the_service_reads_no_secret_but_its_own_and_none_outside_its_namespace() -> None:
    for permission in _granted(manifest_objects(), SERVICE_NAME):
        if permission.resource != "secrets":
            continue
        assert permission.scope == NAMESPACE
        if permission.verb == "get" and permission.name in (
            CUSTOM_TLS_SECRET,
            DEFAULT_REPORTER_SECRET_TOKEN,
        ):
            continue  # read only: the operator's own certificate, the Reporter's token
        if permission.verb != "create":
            assert permission.name in OWNED_SECRETS


def test_no_binding_gives_the_service_power_over_rbac_or_identities() -> None:
    dangerous_verbs = {"escalate", "bind", "impersonate", "delete", "deletecollection", "patch"}
    dangerous_resources = {"roles", "clusterroles", "rolebindings", "clusterrolebindings"}
    for permission in _granted(manifest_objects(), SERVICE_NAME):
        assert permission.verb not in dangerous_verbs
        assert permission.resource not in dangerous_resources


def test_the_owned_secret_names_follow_the_chart_values() -> None:
    objects = rendered_objects(["rbac.ownedSecrets=[ibm-licensing-token, my-token]"])
    names = {
        permission.name
        for permission in _granted(objects, SERVICE_NAME)
        if permission.resource == "secrets" and permission.verb == "get"
    }
    assert names == {
        "ibm-licensing-token",
        "my-token",
        CUSTOM_TLS_SECRET,
        DEFAULT_REPORTER_SECRET_TOKEN,
    }


def test_the_reader_may_get_the_protected_endpoints_and_nothing_else() -> None:
    objects = manifest_objects()
    (reader_role,) = [role for role, _scope in _roles_of(objects, READER_NAME)]
    assert reader_role["metadata"]["name"] == READER_CLUSTER_ROLE
    assert reader_role["rules"] == [
        {"nonResourceURLs": list(READER_URLS), "verbs": [REVIEWED_VERB]}
    ]
    assert set(READER_URLS) == set(PROTECTED_PATHS)


def test_the_reader_is_an_account_with_a_long_lived_token_secret_and_no_pod() -> None:
    objects = manifest_objects()
    account = find(objects, "ServiceAccount", READER_NAME)
    assert account["metadata"]["namespace"] == NAMESPACE
    assert account["automountServiceAccountToken"] is False
    secret = find(objects, "Secret", READER_TOKEN_SECRET)
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["namespace"] == NAMESPACE
    assert secret["metadata"]["annotations"] == {"kubernetes.io/service-account.name": READER_NAME}
    assert "data" not in secret  # the token controller fills it in
    binding = find(objects, "ClusterRoleBinding", READER_NAME)
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": READER_NAME, "namespace": NAMESPACE}
    ]


def test_the_reader_gets_exactly_get_on_the_six_urls_and_no_resource() -> None:
    assert _granted(manifest_objects(), READER_NAME) == {
        Permission(NON_RESOURCE, url, "get", CLUSTER, ANY) for url in READER_URLS
    }


def test_the_services_pod_runs_as_the_account_the_rules_are_bound_to() -> None:
    deployment = find(manifest_objects(), "Deployment", SERVICE_NAME)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == SERVICE_NAME
    assert pod["automountServiceAccountToken"] is True
    assert find(manifest_objects(), "ServiceAccount", SERVICE_NAME)["metadata"]["namespace"] == (
        NAMESPACE
    )
