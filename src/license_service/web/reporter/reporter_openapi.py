"""The OpenAPI document of the Reporter (SPEC 11), served at its ``/openapi.json``.

Built from License Service's own document (the same row schemas, parameters, error
answers and security schemes: a Reporter row is a License Service row), with the
Reporter's paths: its page ``/``, the reports with ``clusterId``, ``/clusters``, ``/contributions``,
the fleet's ``/compliance``, its signed ``/snapshot``, and the two POSTs. The push
format's schemas are msgspec's own of ``push_format``'s Structs, so the document cannot
drift from the decoder. Pure.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import msgspec

from license_service.audit.fleet_snapshot_names import FLEET_SNAPSHOT_PREFIX
from license_service.fleet.push_format import MAX_BODY_BYTES, PushEnvelope, PushPayload
from license_service.web.openapi import openapi_document
from license_service.web.reporter.fleet_reports import CLUSTER_COLUMNS, CONTRIBUTION_COLUMNS
from license_service.web.reporter.push_route import PUSH_PATH
from license_service.web.reporter.snapshot_import_route import (
    MAX_SNAPSHOT_BYTES,
    SNAPSHOT_IMPORT_PATH,
)

JsonObject = dict[str, Any]

_REF: Final = "#/components/schemas/{name}"
_ERROR: Final = {"content": {"application/json": {"schema": {"$ref": _REF.format(name="Error")}}}}
_ROW_SCHEMAS: Final = {
    "products": "Product",
    "bundledProducts": "BundledProduct",
    "services": "Service",
}
_CLUSTER_ID: Final = {
    "name": "clusterId",
    "in": "query",
    "required": False,
    "description": "Only this cluster's rows (as /clusters lists it).",
    "schema": {"type": "string"},
}


def reporter_openapi_document(version: str) -> JsonObject:
    """The OpenAPI 3.1 document of the Reporter of ``version``."""
    base = openapi_document(version)
    paths = base["paths"]
    schemas = {
        **base["components"]["schemas"],
        **_push_schemas(base["components"]["schemas"]),
        **_list_schemas(),
    }
    return {
        "openapi": base["openapi"],
        "info": {
            "title": "License Service Reporter API",
            "version": version,
            "description": (
                "Many clusters in one view: clusters push their daily peaks (POST /v1/push, "
                "push format 1) or an audit snapshot; the reports add up, per day, the "
                "clusters' daily peaks and give the highest daily sum on its earliest day. "
                'Errors are JSON {"status", "error", "message"}.'
            ),
        },
        "paths": {
            "/": _fleet_page(paths["/status"]),
            **{
                path: _with_cluster(paths[path])
                for path in ("/products", "/bundled_products", "/services")
            },
            "/clusters": _list(
                paths["/products"], "Every cluster: its key, last push, missing days.", "Cluster"
            ),
            "/contributions": _contributions(paths["/products"]),
            "/compliance": paths["/compliance"],
            "/snapshot": _snapshot(paths["/snapshot"]),
            "/status": paths["/status"],
            "/version": paths["/version"],
            "/livez": paths["/livez"],
            "/readyz": paths["/readyz"],
            "/openapi.json": paths["/openapi.json"],
            PUSH_PATH: _post(
                "A cluster's days (push format 1); each replaces the cluster's day.",
                {"application/json": {"schema": {"$ref": _REF.format(name="PushEnvelope")}}},
                "PushAnswer",
                too_large=MAX_BODY_BYTES,
            ),
            SNAPSHOT_IMPORT_PATH: _post(
                "An offline cluster's audit snapshot (the zip), verified, as its days.",
                {
                    "application/zip": {
                        "schema": {"type": "string", "contentMediaType": "application/zip"}
                    }
                },
                "PushAnswer",
                too_large=MAX_SNAPSHOT_BYTES,
            ),
        },
        "components": {**base["components"], "schemas": schemas},
    }


def _fleet_page(like: JsonObject) -> JsonObject:
    """``/``: an HTML page behind the token, as ``/status`` is, with ``metricName``."""
    item = copy.deepcopy(like)
    get = item["get"]
    get["summary"] = (
        "The fleet's page (HTML): periods, a metric filter, the clusters, the products' "
        "highest daily sums and charts of the daily sums stacked by cluster."
    )
    get["parameters"] = [
        *get["parameters"],
        {"$ref": "#/components/parameters/metricName"},
    ]
    get["responses"]["200"] = {
        "description": "The page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    return item


def _with_cluster(item: JsonObject) -> JsonObject:
    """A report path of License Service, with ``clusterId`` in place of ``groupName``."""
    item = copy.deepcopy(item)
    get = item["get"]
    get["parameters"] = [
        _CLUSTER_ID if p.get("$ref", "").endswith("/groupName") else p for p in get["parameters"]
    ]
    return item


def _list(like: JsonObject, summary: str, schema: str) -> JsonObject:
    item = _with_cluster(like)
    get = item["get"]
    get["summary"] = summary
    get["parameters"] = [
        p
        for p in get["parameters"]
        if p is not _CLUSTER_ID and not p.get("$ref", "").endswith("/metricName")
    ]
    get["responses"]["200"] = {
        "description": summary,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": _REF.format(name=schema)}}
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
    return item


def _contributions(like: JsonObject) -> JsonObject:
    item = _list(
        like, "Each cluster's daily peak on the period's peak day of a product.", "Contribution"
    )
    item["get"]["parameters"] = [
        {"name": "productId", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "metricName", "in": "query", "required": True, "schema": {"type": "string"}},
        *item["get"]["parameters"],
    ]
    return item


def _snapshot(like: JsonObject) -> JsonObject:
    """License Service's ``/snapshot`` (same parameters and errors), the Reporter's zip."""
    item = copy.deepcopy(like)
    get = item["get"]
    get["summary"] = (
        "The fleet's signed audit snapshot of the period: the fleet's products_, "
        "products_daily_, bundled_products_ and bundled_products_daily_ files "
        "(<dateFrom>_<dateTo>_all), the same files of each cluster in clusters/<folder>/, "
        "clusters.csv, data_condition.txt, checksum.txt, signature.rsa and pub_key.pem "
        "(the Reporter's key). Verify with `sha256sum -c checksum.txt` and `openssl dgst "
        "-sha256 -verify pub_key.pem -signature signature.rsa checksum.txt`."
    )
    get["responses"]["200"]["description"] = f"{FLEET_SNAPSHOT_PREFIX}_<dateFrom>_<dateTo>.zip"
    get["responses"]["503"] = {"description": "The Reporter has no signing key.", **_ERROR}
    return item


def _post(summary: str, body: JsonObject, answer: str, *, too_large: int) -> JsonObject:
    return {
        "post": {
            "summary": summary,
            "security": [{"apiToken": []}, {"bearerToken": []}],
            "requestBody": {"required": True, "content": body},
            "responses": {
                "200": {
                    "description": "Stored.",
                    "content": {"application/json": {"schema": {"$ref": _REF.format(name=answer)}}},
                },
                "400": {
                    "description": "What was wrong (the field, a finding) and how to fix it.",
                    **_ERROR,
                },
                "401": {"description": "No valid Reporter token.", **_ERROR},
                "405": {"description": "Only POST is allowed on this path.", **_ERROR},
                "409": {
                    "description": "Signed by another key than the one pinned for the cluster; "
                    "`license-service reporter trust CLUSTER_ID` accepts it.",
                    **_ERROR,
                },
                "413": {"description": f"The body is larger than {too_large:,} bytes.", **_ERROR},
                "503": {"description": "The database cannot be reached now.", **_ERROR},
            },
        }
    }


def _push_schemas(rows: JsonObject) -> JsonObject:
    """The push format's schemas; a day's rows are the report rows without metricPeakDate."""
    _, components = msgspec.json.schema_components([PushEnvelope, PushPayload], ref_template=_REF)
    day = components["PushPayloadDay"]
    for field, schema in _ROW_SCHEMAS.items():
        daily = copy.deepcopy(rows[schema])
        del daily["properties"]["metricPeakDate"]
        daily["required"] = [name for name in daily["required"] if name != "metricPeakDate"]
        components[f"Daily{schema}"] = daily
        day["properties"][field] = {
            "type": "array",
            "description": f"The day's peak rows: {schema} without metricPeakDate.",
            "items": {"$ref": _REF.format(name=f"Daily{schema}")},
        }
    components["PushEnvelope"]["properties"]["payload"]["description"] = (
        "base64 (standard, padded) of the payload bytes: a PushPayload as UTF-8 JSON."
    )
    components["PushEnvelope"]["properties"]["signature"]["description"] = (
        "base64 of the RSA PKCS#1 v1.5 SHA-256 signature of the payload bytes."
    )
    return components


def _list_schemas() -> JsonObject:
    def strings(columns: tuple[str, ...]) -> JsonObject:
        return {name: {"type": ["string", "null"]} for name in columns}

    cluster = strings(CLUSTER_COLUMNS)
    cluster["missingDays"] = {"type": "array", "items": {"type": "string", "format": "date"}}
    contribution = strings(CONTRIBUTION_COLUMNS)
    contribution["metricQuantity"] = {"type": "integer", "minimum": 0}
    contribution["reported"] = {"type": "boolean"}
    return {
        "Cluster": {"type": "object", "properties": cluster, "required": list(CLUSTER_COLUMNS)},
        "Contribution": {
            "type": "object",
            "properties": contribution,
            "required": list(CONTRIBUTION_COLUMNS),
        },
        "PushAnswer": {
            "type": "object",
            "properties": {
                "clusterId": {"type": "string"},
                "acknowledgedThrough": {
                    "type": ["string", "null"],
                    "format": "date",
                    "description": "The cluster's last complete day with none missing before it.",
                },
                "accepted": {"type": "integer", "minimum": 0},
            },
            "required": ["clusterId", "acknowledgedThrough", "accepted"],
        },
    }
