"""The workload a pod belongs to, from its controller (SPEC 9).

A pod's workload is its controller (the ``ownerReferences`` entry with
``controller: true``). A ReplicaSet whose pods carry ``pod-template-hash`` is shown
as its Deployment: the ReplicaSet's name without the ``-<hash>`` suffix. A pod
without a controller is its own workload, of kind ``Pod``. Pure.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from license_service.metering.cluster_view import Controller, Pod

BARE_POD: Final = "Pod"


class Workload(NamedTuple):
    """A workload as explanations show it: its kind and name (in the pod's namespace)."""

    kind: str
    name: str


def workload_of_controller(controller: Controller) -> Workload:
    """The workload shown for pods of ``controller``; pure."""
    template_hash = controller.pod_template_hash
    if (
        controller.kind == "ReplicaSet"
        and template_hash
        and controller.name.endswith(f"-{template_hash}")
        and len(controller.name) > len(template_hash) + 1
    ):
        return Workload("Deployment", controller.name[: -len(template_hash) - 1])
    return Workload(controller.kind, controller.name)


def workload_of(pod: Pod) -> Workload:
    """The workload of ``pod``: its controller's, or the pod itself (``Pod``); pure."""
    if pod.controller is None:
        return Workload(BARE_POD, pod.name)
    return workload_of_controller(pod.controller)
