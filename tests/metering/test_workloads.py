"""A pod's workload comes from its controller (SPEC 9)."""

from __future__ import annotations

import pytest

from license_service.metering.cluster_view import Controller, Pod
from license_service.metering.workloads import Workload, workload_of


def pod_of(controller: Controller | None) -> Pod:
    return Pod(
        namespace="ns",
        name="web-7d9f8c6b5-x2x9q",
        node_name="n",
        containers=(),
        controller=controller,
    )


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        pytest.param(
            Controller("ReplicaSet", "web-7d9f8c6b5", "7d9f8c6b5"),
            Workload("Deployment", "web"),
            id="a ReplicaSet with pod-template-hash is shown as its Deployment",
        ),
        pytest.param(
            Controller("ReplicaSet", "web-7d9f8c6b5"),
            Workload("ReplicaSet", "web-7d9f8c6b5"),
            id="a ReplicaSet without the label stays a ReplicaSet",
        ),
        pytest.param(
            Controller("ReplicaSet", "web-other", "7d9f8c6b5"),
            Workload("ReplicaSet", "web-other"),
            id="a name without the hash suffix stays as it is",
        ),
        pytest.param(
            Controller("ReplicaSet", "-7d9f8c6b5", "7d9f8c6b5"),
            Workload("ReplicaSet", "-7d9f8c6b5"),
            id="nothing is left before the suffix: the ReplicaSet",
        ),
        pytest.param(
            Controller("StatefulSet", "db"), Workload("StatefulSet", "db"), id="a StatefulSet"
        ),
        pytest.param(Controller("Job", "nightly"), Workload("Job", "nightly"), id="a Job"),
        pytest.param(None, Workload("Pod", "web-7d9f8c6b5-x2x9q"), id="no controller: the pod"),
    ],
)
def test_the_workload_of_a_pod(controller: Controller | None, expected: Workload) -> None:
    assert workload_of(pod_of(controller)) == expected
