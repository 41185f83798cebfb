"""The entitlements file (SPEC 13): a YAML list read into ``Entitlements``, or every problem.

The document (ConfigMap ``license-service-entitlements``, key ``entitlements.yaml``, or
``--entitlements FILE``) is a list of items::

    - name: IBM MQ Advanced            # free text, shown in reports
      productId: 208423bb063c43288328b1d788745b0c   # a product's or a Cloud Pak's id
      metricName: VIRTUAL_PROCESSOR_CORE
      quantity: 16                     # > 0; decimals allowed (12.5)
      validFrom: 2026-01-01            # optional, UTC day included; absent: no start
      validTo: 2026-12-31              # optional, UTC day included; absent: no end

An empty document means no entitlements. ``parse_entitlements`` reports every problem
at once, each naming the item by its index (``entitlements[2]``, counted from 0) and
its field, with the fix, so one edit repairs the file. Unknown fields are refused: a
misspelt ``validTo`` would otherwise make an entitlement last for ever. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import Final

import yaml

from license_service.configuration.yaml_documents import describe_yaml_error, load_yaml_documents
from license_service.errors import ConfigurationError
from license_service.metering.entitlements import Entitlement, Entitlements

CONFIGMAP_NAME: Final = "license-service-entitlements"
CONFIGMAP_KEY: Final = "entitlements.yaml"
FIELDS: Final = ("name", "productId", "metricName", "quantity", "validFrom", "validTo")
REQUIRED: Final = ("name", "productId", "metricName", "quantity")
MAX_ITEMS: Final = 10_000
MAX_TEXT: Final = 512
_EXAMPLE: Final = (
    "- {name: IBM MQ Advanced, productId: <id>, metricName: VIRTUAL_PROCESSOR_CORE, "
    "quantity: 16, validFrom: 2026-01-01, validTo: 2026-12-31}"
)


def parse_entitlements(text: str, *, source: str) -> Entitlements:
    """The entitlements of YAML ``text``; ``ConfigurationError`` naming ``source`` and every
    item and field that is wrong, with the fix."""
    try:
        documents = [d for d in load_yaml_documents(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML: {describe_yaml_error(exc)}") from exc
    if not documents:
        return Entitlements()
    if len(documents) > 1 or not isinstance(documents[0], list):
        raise ConfigurationError(
            f"{source}: the entitlements must be one YAML list of items, e.g. {_EXAMPLE}"
        )
    items: list[object] = documents[0]
    if len(items) > MAX_ITEMS:
        raise ConfigurationError(
            f"{source}: {len(items)} entitlements; at most {MAX_ITEMS} are read: merge items"
        )
    problems: list[str] = []
    entitlements = []
    for index, item in enumerate(items):
        found = _item(item, where=f"entitlements[{index}]", problems=problems)
        if found is not None:
            entitlements.append(found)
    if problems:
        shown = "; ".join(problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConfigurationError(f"{source}: {shown}{more}")
    return Entitlements(tuple(entitlements))


def _item(item: object, *, where: str, problems: list[str]) -> Entitlement | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where} is not a mapping: write it as {_EXAMPLE}")
        return None
    before = len(problems)
    for field in item:
        if field not in FIELDS:
            problems.append(
                f"{where}: unknown field {str(field)[:64]!r}: remove it or use one of "
                + ", ".join(FIELDS)
            )
    for field in REQUIRED:
        if item.get(field) is None:
            problems.append(f"{where}.{field} is missing: add it")
    texts = {f: _text(item.get(f), f"{where}.{f}", problems) for f in REQUIRED[:3]}
    quantity = _quantity(item.get("quantity"), f"{where}.quantity", problems)
    valid_from = _day(item.get("validFrom"), f"{where}.validFrom", problems)
    valid_to = _day(item.get("validTo"), f"{where}.validTo", problems)
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        problems.append(
            f"{where}.validTo {valid_to.isoformat()} is before validFrom "
            f"{valid_from.isoformat()}: swap them or correct the dates"
        )
    if len(problems) > before or quantity is None:
        return None
    return Entitlement(
        name=texts["name"] or "",
        product_id=texts["productId"] or "",
        metric=texts["metricName"] or "",
        quantity=quantity,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _text(value: object, where: str, problems: list[str]) -> str | None:
    if value is None:
        return None  # reported as missing
    if not isinstance(value, str | int) or isinstance(value, bool):
        problems.append(f"{where} must be text: quote it")
        return None
    text = str(value).strip()
    if not text:
        problems.append(f"{where} is empty: write the value")
    elif len(text) > MAX_TEXT:
        problems.append(f"{where} has {len(text)} characters: at most {MAX_TEXT}")
    elif not text.isprintable():
        problems.append(f"{where} holds a control character: remove it")
    return text


def _quantity(value: object, where: str, problems: list[str]) -> Fraction | None:
    if value is None:
        return None  # reported as missing
    quantity: Fraction | None = None
    if isinstance(value, bool):
        quantity = None
    elif isinstance(value, int):
        quantity = Fraction(value)
    elif isinstance(value, float) and math.isfinite(value):
        quantity = Fraction(repr(value))  # the decimal the author wrote, not the binary float
    elif isinstance(value, str):
        try:
            quantity = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            quantity = None
    if quantity is None or quantity <= 0 or quantity > 10**12:
        problems.append(
            f"{where} {str(value)[:32]!r} is not a positive number: write the units bought, "
            "e.g. 16 or 12.5"
        )
        return None
    return quantity


def _day(value: object, where: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(
        f"{where} {str(value)[:32]!r} is not a date: write YYYY-MM-DD (a UTC day), or leave "
        "the field out for no limit"
    )
    return None
