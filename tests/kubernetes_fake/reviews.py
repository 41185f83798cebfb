"""TokenReview and SubjectAccessReview answered from users and rules a test declares.

Users: a bearer token maps to a username, groups and uid (``add_user``). Any other token is
not authenticated: the status has an empty user and an error, ``authenticated`` is left out
(upstream omits false booleans).

Rules: a subject (a username, or a group name) may use verbs on non-resource URLs or on
resources. Non-resource paths match as RBAC ``nonResourceURLs`` do: exact, or a prefix when
the rule ends with ``*``; ``*`` verbs match every verb. Anything not allowed is denied with
``allowed: false`` (no ``denied`` flag: RBAC has no explicit deny). Every rule check is a
pure function of the declared state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .statuses import bad_request

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class User:
    """An identity a token stands for."""

    username: str
    groups: tuple[str, ...]
    uid: str


@dataclass(frozen=True)
class NonResourceRule:
    """``subject`` may use ``verb`` on ``path`` (``*`` suffix: prefix match)."""

    subject: str
    path: str
    verb: str

    def allows(self, subjects: set[str], path: str, verb: str) -> bool:
        """Whether this rule grants the request."""
        if self.subject not in subjects or self.verb not in ("*", verb):
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@dataclass(frozen=True)
class ResourceRule:
    """``subject`` may use ``verb`` on ``resource`` of ``group`` (optionally one namespace/name)."""

    subject: str
    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None
    name: str | None = None

    def allows(self, subjects: set[str], attributes: JsonObject) -> bool:
        """Whether this rule grants the resource request."""
        wanted = {
            "verb": self.verb,
            "resource": self.resource,
            "group": self.group,
        }
        for field, rule_value in wanted.items():
            if rule_value != "*" and rule_value != (attributes.get(field) or ""):
                return False
        if self.namespace is not None and self.namespace != (attributes.get("namespace") or ""):
            return False
        if self.name is not None and self.name != (attributes.get("name") or ""):
            return False
        return self.subject in subjects


class AccessReviews:
    """The declared users and rules, and the review answers computed from them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._non_resource_rules: list[NonResourceRule] = []
        self._resource_rules: list[ResourceRule] = []

    def add_user(self, token: str, username: str, groups: tuple[str, ...], uid: str) -> None:
        """Make ``token`` authenticate as this user."""
        with self._lock:
            self._users[token] = User(username, groups, uid)

    def remove_user(self, token: str) -> None:
        """Make ``token`` unknown again (as a deleted service account's token is)."""
        with self._lock:
            self._users.pop(token, None)

    def allow(self, rule: NonResourceRule | ResourceRule) -> None:
        """Grant a rule."""
        with self._lock:
            if isinstance(rule, NonResourceRule):
                self._non_resource_rules.append(rule)
            else:
                self._resource_rules.append(rule)

    def revoke_all(self, subject: str) -> None:
        """Remove every rule for a user or group."""
        with self._lock:
            self._non_resource_rules = [r for r in self._non_resource_rules if r.subject != subject]
            self._resource_rules = [r for r in self._resource_rules if r.subject != subject]

    def token_review(self, body: Any) -> JsonObject:
        """The answered TokenReview for a request body."""
        spec = _spec(body)
        token = spec.get("token")
        if not isinstance(token, str) or not token:
            raise bad_request("TokenReview spec.token: Required value")
        with self._lock:
            user = self._users.get(token)
        status: JsonObject
        if user is None:
            status = {"user": {}, "error": "[invalid bearer token, token lookup failed]"}
        else:
            status = {
                "authenticated": True,
                "user": {"username": user.username, "uid": user.uid, "groups": list(user.groups)},
            }
            if spec.get("audiences"):
                status["audiences"] = list(spec["audiences"])
        return _answer(body, "authentication.k8s.io/v1", "TokenReview", status)

    def subject_access_review(self, body: Any) -> JsonObject:
        """The answered SubjectAccessReview for a request body."""
        spec = _spec(body)
        subjects = {str(group) for group in spec.get("groups") or []}
        if spec.get("user"):
            subjects.add(str(spec["user"]))
        if not subjects:
            raise bad_request(
                "SubjectAccessReview spec: at least one of user or group must be specified"
            )
        non_resource = spec.get("nonResourceAttributes")
        resource: JsonObject | None = spec.get("resourceAttributes")
        if (non_resource is None) == (resource is None):
            raise bad_request(
                "SubjectAccessReview spec: exactly one of nonResourceAttributes and "
                "resourceAttributes must be specified"
            )
        with self._lock:
            if non_resource is not None:
                path = str(non_resource.get("path") or "")
                verb = str(non_resource.get("verb") or "")
                allowed = any(r.allows(subjects, path, verb) for r in self._non_resource_rules)
                what = f'{verb} on non-resource URL "{path}"'
            else:
                assert resource is not None
                allowed = any(r.allows(subjects, resource) for r in self._resource_rules)
                what = f"{resource.get('verb')} on {resource.get('resource')}"
        status: JsonObject = {"allowed": allowed}
        status["reason"] = (
            f"allowed by a rule declared for {sorted(subjects)}"
            if allowed
            else f"no rule allows {sorted(subjects)} to {what}"
        )
        return _answer(body, "authorization.k8s.io/v1", "SubjectAccessReview", status)


def _spec(body: Any) -> JsonObject:
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        raise bad_request("the review must be a JSON object with a spec")
    spec: JsonObject = body["spec"]
    return spec


def _answer(body: JsonObject, api_version: str, kind: str, status: JsonObject) -> JsonObject:
    metadata = dict(body.get("metadata") or {})
    metadata.setdefault("creationTimestamp", None)
    return {
        "kind": kind,
        "apiVersion": api_version,
        "metadata": metadata,
        "spec": body["spec"],
        "status": status,
    }
