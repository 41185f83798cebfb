"""The chart renderer (``deploy/render_chart.py``) as a module, and the objects it renders.

``deploy/`` is not a Python package (the renderer is a script run by ``make manifests``),
so it is loaded here by path. ``manifest_objects`` reads the committed
``deploy/manifests/`` files as a user's ``kubectl apply`` would; ``rendered_objects``
renders the chart with other values.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
MANIFESTS = DEPLOY / "manifests"
CHART = DEPLOY / "helm" / "license-service"
EXAMPLE_IBMLICENSING = MANIFESTS / "examples" / "ibmlicensing.yaml"
NAMESPACE = "ibm-common-services"
SERVICE_NAME = "ibm-licensing-service-instance"
READER_NAME = "ibm-licensing-default-reader"

Object = dict[str, Any]


def _load_renderer() -> ModuleType:
    path = DEPLOY / "render_chart.py"
    spec = importlib.util.spec_from_file_location("render_chart", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


renderer = _load_renderer()


def load_objects(path: Path) -> list[Object]:
    """The Kubernetes objects of one YAML file (empty documents left out); a fresh copy."""
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


@functools.cache
def _parsed(path: Path, modified: int) -> list[Object]:
    # Parsing the CRD is slow in pure Python; ``modified`` refreshes the cache on a change.
    del modified
    return [
        document
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document is not None
    ]


def manifest_objects(*, with_examples: bool = False) -> list[Object]:
    """Every object of ``deploy/manifests/*.yaml``, in ``kubectl apply -f`` (file) order."""
    paths = sorted(MANIFESTS.glob("*.yaml"))
    if with_examples:
        paths += sorted((MANIFESTS / "examples").glob("*.yaml"))
    return [document for path in paths for document in load_objects(path)]


def rendered_objects(overrides: Sequence[str] = (), *, namespace: str = NAMESPACE) -> list[Object]:
    """The chart rendered with ``--set`` ``overrides`` into ``namespace``."""
    documents = renderer.render_chart(CHART, namespace=namespace, overrides=overrides)
    return [dict(document.content) for document in documents]


def find(objects: Sequence[Mapping[str, Any]], kind: str, name: str) -> Object:
    """The one object of ``kind`` named ``name``."""
    found = [
        dict(obj) for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def of_kind(objects: Sequence[Mapping[str, Any]], kind: str) -> list[Object]:
    """The objects of ``kind``."""
    return [dict(obj) for obj in objects if obj["kind"] == kind]


def container_of(objects: Sequence[Mapping[str, Any]]) -> Object:
    """The service's container in the Deployment."""
    deployment = find(objects, "Deployment", SERVICE_NAME)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)
