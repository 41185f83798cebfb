"""Small builders for cluster views in metering tests."""

from __future__ import annotations

from license_service.metering.cluster_view import ClusterView, Container, Node, Pod

VPC = "VIRTUAL_PROCESSOR_CORE"
PVU = "PROCESSOR_VALUE_UNIT"
MVS = "MANAGED_VIRTUAL_SERVER"


def format_millicores(millicores: int) -> str:
    """The canonical Kubernetes spelling of ``millicores`` (``"2"`` or ``"1500m"``)."""
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def node(name: str, cpu: str, *, allocatable: str | None = None, pvu: str | None = None) -> Node:
    return Node(name=name, cpu_capacity=cpu, cpu_allocatable=allocatable or cpu, pvu_per_core=pvu)


def product(
    product_id: str = "p1",
    name: str = "Product One",
    metric: str = VPC,
    **extra: str,
) -> dict[str, str]:
    return {"productID": product_id, "productName": name, "productMetric": metric, **extra}


def bundled(
    product_id: str,
    name: str,
    *,
    ratio: str | None = None,
    metric: str = VPC,
    cloudpak_id: str = "cp1",
    cloudpak_name: str = "Cloud Pak One",
    **extra: str,
) -> dict[str, str]:
    annotations = product(
        product_id, name, metric, cloudpakId=cloudpak_id, cloudpakName=cloudpak_name
    )
    if ratio is not None:
        annotations["productCloudpakRatio"] = ratio
    return {**annotations, **extra}


def pod(
    name: str,
    node_name: str,
    annotations: dict[str, str],
    *limits: str | None,
    containers: tuple[Container, ...] = (),
    running: bool = True,
    namespace: str = "apps",
) -> Pod:
    listed = containers or tuple(
        Container(f"c{index}", limit) for index, limit in enumerate(limits)
    )
    return Pod(
        namespace=namespace,
        name=name,
        node_name=node_name,
        containers=listed,
        annotations=annotations,
        running=running,
    )


def view(*pods: Pod, nodes: tuple[Node, ...] = ()) -> ClusterView:
    return ClusterView(pods=pods, nodes=nodes)
