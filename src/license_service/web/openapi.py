"""``/openapi.json``: the OpenAPI 3.1 description of every endpoint, written by hand.

Hand-written so it says exactly what SPEC 3 promises (field names, types, both date
spellings, the error body and every error status); tests check that every route of
the app is described and that real answers validate against these schemas.
``openapi_document`` is pure: it only fills in the version.
"""

from __future__ import annotations

from typing import Any, Final

from license_service.metering.periods import DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS
from license_service.web.uploads.upload_openapi import (
    UPLOAD_PATH_ITEM,
    UPLOAD_SCHEMAS,
    UPLOAD_SECURITY_SCHEMES,
)
from license_service.web.uploads.upload_route import UPLOAD_PATH

JsonObject = dict[str, Any]

_STRING: Final = {"type": "string"}
_INTEGER: Final = {"type": "integer", "minimum": 0}
_DATE: Final = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_INSTANT: Final = {"type": "string", "format": "date-time"}
_EMPTY: Final = {"type": "string", "maxLength": 0}


def _ref(kind: str, name: str) -> JsonObject:
    return {"$ref": f"#/components/{kind}/{name}"}


def _object(properties: JsonObject, *, optional: JsonObject | None = None) -> JsonObject:
    return {
        "type": "object",
        "properties": {**properties, **(optional or {})},
        "required": list(properties),
        "additionalProperties": False,
    }


def _date_parameter(name: str, description: str) -> JsonObject:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        # An empty value (``dateFrom=``) counts as not given.
        "schema": {"anyOf": [_DATE, _EMPTY]},
    }


_PERIOD_RULES: Final = (
    f"Give both dates or neither (the last {DEFAULT_PERIOD_DAYS} days ending today, UTC). "
    f"The period may not end after today nor span more than {MAX_PERIOD_DAYS} days."
)

_SCHEMAS: Final[JsonObject] = {
    "Product": _object(
        {
            "name": _STRING,
            "id": _STRING,
            "metricName": _STRING,
            "metricPeakDate": _DATE,
            "metricQuantity": _INTEGER,
        }
    ),
    "BundledProduct": _object(
        {
            "productName": _STRING,
            "productId": _STRING,
            "cloudpakId": _STRING,
            "cloudpakName": _STRING,
            "cloudpakVersion": _STRING,
            "cloudpakMetricName": _STRING,
            "metricName": _STRING,
            "metricPeakDate": _DATE,
            "metricMeasuredQuantity": _INTEGER,
            "metricConversion": {
                "type": "string",
                "pattern": r"^[^:]+:[^:]+$",
                "examples": ["2:1"],
            },
            "metricConvertedQuantity": {
                "type": "number",
                "minimum": 0,
                "description": "Exact; may be fractional (1.5).",
            },
        }
    ),
    "Service": _object(
        {
            "cloudpakId": _STRING,
            "cloudpakMetricName": _STRING,
            "productName": _STRING,
            "productId": _STRING,
            "metricName": _STRING,
            "serviceName": _STRING,
            "serviceId": _STRING,
            "serviceMetricValue": _INTEGER,
            "metricPeakDate": _DATE,
        }
    ),
    "Compliance": _object(
        {
            "name": _STRING,
            "id": _STRING,
            "metricName": _STRING,
            "entitled": {
                "type": "number",
                "minimum": 0,
                "description": "Quantity entitled on metricPeakDate (overlaps added up); "
                "without usage, the highest entitled on a day of the period.",
            },
            "metricQuantity": _INTEGER,
            "metricPeakDate": {"type": ["string", "null"], "format": "date"},
            "headroom": {"type": "number", "description": "entitled - metricQuantity"},
            "usedPercent": {
                "type": ["number", "null"],
                "description": "metricQuantity / entitled in %, rounded down to 2 decimals; "
                "null when nothing is entitled.",
            },
            "status": {"enum": ["OK", "NEAR", "OVER", "UNENTITLED"]},
        }
    ),
    "Health": _object(
        {
            "status": {"enum": ["OK", "DEGRADED"]},
            "checkedAt": _INSTANT,
            "collector": _object(
                {
                    "source": {"enum": ["kubernetes", "dump", "simulated", None]},
                    "synced": {"type": "boolean"},
                    "lastSampleAt": {"type": ["string", "null"], "format": "date-time"},
                    "nextSampleAt": {"type": ["string", "null"], "format": "date-time"},
                    "lastError": {"type": ["string", "null"]},
                }
            ),
            "incompleteAnnotations": _object(
                {
                    "count": _INTEGER,
                    "pods": {
                        "type": "array",
                        "items": _object(
                            {
                                "namespace": _STRING,
                                "name": _STRING,
                                "problems": {
                                    "type": "array",
                                    "items": _object({"annotation": _STRING, "reason": _STRING}),
                                },
                            }
                        ),
                    },
                }
            ),
            "unmeasuredMetrics": {
                "type": "array",
                "items": _object(
                    {
                        "productName": _STRING,
                        "productId": _STRING,
                        "metricName": _STRING,
                        "cloudpakId": {"type": ["string", "null"]},
                    }
                ),
            },
            "unknownNodes": {
                "type": "array",
                "items": _object(
                    {
                        "nodeName": _STRING,
                        "pods": {
                            "type": "array",
                            "items": _object({"namespace": _STRING, "name": _STRING}),
                        },
                        "containersWithoutLimit": _INTEGER,
                    }
                ),
            },
            "warnings": {"type": "array", "items": _STRING},
            "firstDayWithData": {
                "anyOf": [_DATE, {"type": "null"}],
                "description": "The oldest day reports have data for; earlier periods are empty.",
            },
        },
        optional={
            "namespaceScope": _object(
                {
                    "excludeNamespace": _STRING,
                    "excludeNamespaceSince": {"type": ["string", "null"], "format": "date-time"},
                    "chargebackEnabled": {"type": "boolean"},
                }
            ),
        },
    ),
    "UsageExplained": _object(
        {
            "productId": _STRING,
            "productName": _STRING,
            "metricName": _STRING,
            "date": _DATE,
            "sampleAt": _INSTANT,
            "metricQuantity": _INTEGER,
            "threadsPerCore": _INTEGER,
            "totalMillicores": _INTEGER,
            "contributions": {"type": "array", "items": _ref("schemas", "Contribution")},
        },
        optional={
            "cloudpakId": _STRING,
            "cloudpakMetricName": _STRING,
            "metricConversion": _STRING,
            "nodes": _INTEGER,
            "uploadedQuantity": {
                **_INTEGER,
                "description": "Only when uploads (SPEC 10) raised the day above every "
                "sample: the day's value as /products reports it; metricQuantity and the "
                "contributions are the measured sample's.",
            },
            "uploads": {"type": "array", "items": _ref("schemas", "ExplainedUpload")},
        },
    ),
    "ExplainedUpload": _object(
        {
            "date": _DATE,
            "receivedAt": _INSTANT,
            "metricValue": {"type": "number"},
            "aggregationPolicy": {"enum": ["MAX", "ADD", "ADD_MONTHLY"]},
            "submissionId": {"type": ["string", "null"]},
        }
    ),
    "Contribution": _object(
        {
            "namespace": _STRING,
            "workloadKind": _STRING,
            "workloadName": _STRING,
            "node": _STRING,
            "pods": _INTEGER,
            "containers": _INTEGER,
            "chargedMillicores": _INTEGER,
            "cappedMillicores": _INTEGER,
        },
        optional={"pvuPerCore": _INTEGER},
    ),
    "ChargebackGroup": _object(
        {"groupName": _STRING, "namespaces": {"type": "array", "items": _STRING}}
    ),
    "Version": _object({"version": _STRING, "buildDate": _STRING, "commit": _STRING}),
    "Probe": _object({"status": {"const": "ok"}}),
    "Error": _object(
        {
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "error": {"type": "string", "examples": ["Bad Request"]},
            "message": {"type": "string", "description": "What was wrong and how to fix it."},
        }
    ),
}


# With several replicas only (SPEC 12): an optional section, so not in "required".
_SCHEMAS["Health"]["properties"]["leader"] = {
    **_object(
        {
            "replica": _STRING,
            "isLeader": {"type": "boolean"},
            "leader": {"type": ["string", "null"]},
            "leaderSince": {"type": ["string", "null"], "format": "date-time"},
            "lastError": {"type": ["string", "null"]},
        },
        optional={
            "leaderView": {
                "anyOf": [
                    _object(
                        {
                            "writtenBy": _STRING,
                            "writtenAt": {"type": "string", "format": "date-time"},
                            "ageSeconds": _INTEGER,
                            "stale": {"type": "boolean"},
                        }
                    ),
                    {"type": "null"},
                ],
                "description": "On a follower only: the problem sections and sender are the "
                "leader's, as the replica writtenBy shared them at writtenAt (null: none "
                "shared yet); stale when older than three sampling intervals (a warning "
                "says so).",
            }
        },
    ),
    "description": "This replica, which one leads and since when, as it last saw the Lease.",
}

# With a Reporter configured only (SPEC 11): an optional section, so not in "required".
_SCHEMAS["Health"]["properties"]["sender"] = {
    **_object(
        {
            "reporterURL": _STRING,
            "certificatesVerified": {"type": "boolean"},
            "lastPushAt": {"type": ["string", "null"], "format": "date-time"},
            "acknowledgedThrough": {"anyOf": [_DATE, {"type": "null"}]},
            "lastError": {"type": ["string", "null"]},
            "lastErrorAt": {"type": ["string", "null"], "format": "date-time"},
            "pushFailures": _INTEGER,
        }
    ),
    "description": "Pushing to the License Service Reporter: where (never the token), the "
    "last push, the last day the Reporter acknowledged, and the last error (a refusal is "
    "a configuration problem, also listed in warnings).",
}


def _error(description: str, headers: JsonObject | None = None) -> JsonObject:
    response: JsonObject = {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", "Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


_RESPONSES: Final[JsonObject] = {
    "BadRequest": _error(
        "A parameter cannot be used: a malformed date, a date before 1970-01-01, one date "
        "alone, dateFrom after dateTo, dateTo after today, a period over 731 days, or an "
        "unknown format; or the query string holds more than 64 parameters or gives one of "
        "the API's parameters twice."
    ),
    "QueryRefused": _error(
        "The query string holds more than 64 parameters, or gives one of the API's "
        "parameters (dateFrom, dateTo, startDate, endDate, metricName, format, token) twice."
    ),
    "UriTooLong": _error(
        "The path is longer than 1 KiB or the query string longer than 8 KiB "
        "(the server may refuse a request line and headers over 16 KiB with a plain 400)."
    ),
    "HeadersTooLarge": _error("The request has more than 100 headers, or more than 16 KiB."),
    "Unauthorized": _error(
        "No valid credential: the message says what to send.",
        {"WWW-Authenticate": {"schema": {"const": 'Bearer realm="license-service"'}}},
    ),
    "Forbidden": _error("The service account may not get this path (RBAC)."),
    "MethodNotAllowed": _error(
        "Only GET and HEAD are allowed on this path.",
        {"Allow": {"schema": _STRING, "description": "The allowed methods."}},
    ),
    "TooManyRequests": _error(
        "Too many failed attempts from this client.",
        {"Retry-After": {"schema": _INTEGER, "description": "Seconds to wait."}},
    ),
    "ServiceUnavailable": _error("The database or the Kubernetes API cannot be reached now."),
}


def _page_refusal() -> JsonObject:
    """401 of a page: the JSON error, or for a client that asks for HTML a page saying how
    to get in."""
    refusal = _error(
        "No valid credential: the message says what to send. A client whose Accept header "
        "prefers text/html (a browser) gets the same message as a small HTML page that says "
        "how to get in.",
        {"WWW-Authenticate": {"schema": {"const": 'Bearer realm="license-service"'}}},
    )
    refusal["content"]["text/html"] = {"schema": _STRING}
    return refusal


_PARAMETERS: Final[JsonObject] = {
    "dateFrom": _date_parameter("dateFrom", f"First day (UTC), included. {_PERIOD_RULES}"),
    "dateTo": _date_parameter("dateTo", "Last day (UTC), included."),
    "startDate": _date_parameter(
        "startDate", "Another spelling of dateFrom; when both are given they must agree."
    ),
    "endDate": _date_parameter(
        "endDate", "Another spelling of dateTo; when both are given they must agree."
    ),
    "metricName": {
        "name": "metricName",
        "in": "query",
        "required": False,
        "description": "Only rows of this metric (e.g. VIRTUAL_PROCESSOR_CORE).",
        "schema": _STRING,
    },
    "format": {
        "name": "format",
        "in": "query",
        "required": False,
        "description": (
            "csv for the same rows as CSV (RFC 4180, header row always present); json, "
            "empty or absent for JSON. Either in any case."
        ),
        "schema": {
            "type": "string",
            "pattern": "^(|[jJ][sS][oO][nN]|[cC][sS][vV])$",
            "default": "json",
            "examples": ["json", "csv"],
        },
    },
    "groupName": {
        "name": "groupName",
        "in": "query",
        "required": False,
        "description": (
            "Only the usage of this chargeback group (SPEC 8): the same rows, measured on the "
            "pods of the namespaces labelled ibm-chargeback-group=<group>. 400 while "
            "chargeback is off (spec.chargebackEnabled); [] for a group without data."
        ),
        "schema": _STRING,
    },
    "token": {
        "name": "token",
        "in": "query",
        "required": False,
        "description": "The API token (while URL tokens are on). Never logged.",
        "schema": _STRING,
    },
}

_PERIOD: Final = [
    _ref("parameters", name) for name in ("dateFrom", "dateTo", "startDate", "endDate")
]
# Every path: the request limits apply before routing.
_LIMIT_ERRORS: Final = {
    "400": _ref("responses", "QueryRefused"),
    "414": _ref("responses", "UriTooLong"),
    "431": _ref("responses", "HeadersTooLarge"),
}
_AUTHENTICATED_ERRORS: Final = {
    **_LIMIT_ERRORS,
    "401": _ref("responses", "Unauthorized"),
    "403": _ref("responses", "Forbidden"),
    "405": _ref("responses", "MethodNotAllowed"),
    "429": _ref("responses", "TooManyRequests"),
    "503": _ref("responses", "ServiceUnavailable"),
}
_SECURITY: Final[list[JsonObject]] = [{"apiToken": []}, {"bearerToken": []}]


def _authenticated(
    summary: str,
    parameters: list[JsonObject],
    ok: JsonObject,
    *,
    bad_request: bool = False,
    refusal: JsonObject | None = None,
) -> JsonObject:
    """A GET behind authentication; ``bad_request``: its parameters may be refused (400);
    ``refusal``: its own 401 (a page's, which may be HTML)."""
    responses: JsonObject = {"200": ok, **_AUTHENTICATED_ERRORS}
    if bad_request:
        # BadRequest also describes the request limits' 400 (QueryRefused) it replaces.
        responses["400"] = _ref("responses", "BadRequest")
    if refusal is not None:
        responses["401"] = refusal
    return {
        "get": {
            "summary": summary,
            "security": _SECURITY,
            "parameters": parameters,
            "responses": responses,
        }
    }


def _report(summary: str, schema: str) -> JsonObject:
    parameters = [
        *_PERIOD,
        *(_ref("parameters", name) for name in ("metricName", "groupName", "format", "token")),
    ]
    ok = {
        "description": "Rows sorted as the SPEC says; [] for a period without data.",
        "content": {
            "application/json": {"schema": {"type": "array", "items": _ref("schemas", schema)}},
            "text/csv": {"schema": _STRING},
        },
    }
    return _authenticated(summary, parameters, ok, bad_request=True)


def _usage_explained() -> JsonObject:
    """SPEC 9: the breakdown behind a day's peak of a product or bundled product."""

    def text(name: str, description: str, *, required: bool = False) -> JsonObject:
        return {
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": _STRING,
        }

    parameters = [
        text("productId", "The product (or bundled product) as /products lists it.", required=True),
        text("metricName", "Its metric.", required=True),
        _date_parameter("date", "The day (UTC); default: the peak day of the last 30 days."),
        text("cloudpakId", "For a product counted towards several Cloud Paks: which one."),
        text(
            "groupName",
            "A chargeback group (SPEC 8): its own breakdown, capped per group; without "
            "date, behind the group's metricPeakDate. 400 while chargeback is off.",
        ),
        _ref("parameters", "format"),
        _ref("parameters", "token"),
    ]
    ok = {
        "description": "Contributions sorted by cappedMillicores, highest first; "
        "format=csv gives the contributions alone.",
        "content": {**_json("UsageExplained"), "text/csv": {"schema": _STRING}},
    }
    path = _authenticated(
        "Where a product's number comes from: its breakdown by namespace, workload and node.",
        parameters,
        ok,
        bad_request=True,
    )
    path["get"]["responses"]["404"] = _error(
        "Nothing is kept for this product, metric and day (the message says what to ask)."
    )
    return path


def _open(summary: str, content: JsonObject, *, errors: JsonObject | None = None) -> JsonObject:
    return {
        "get": {
            "summary": summary,
            "security": [],
            "responses": {
                "200": {"description": summary, "content": content},
                "405": _ref("responses", "MethodNotAllowed"),
                **_LIMIT_ERRORS,
                **(errors or {}),
            },
        }
    }


def _json(schema: str) -> JsonObject:
    return {"application/json": {"schema": _ref("schemas", schema)}}


def openapi_document(version: str) -> JsonObject:
    """The OpenAPI 3.1 document of the API of License Service ``version``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "License Service API",
            "version": version,
            "description": (
                "License usage of the cluster: period peaks of products, bundled products "
                "and services, health, and signed audit snapshots. Errors are JSON "
                '{"status", "error", "message"}; unknown query parameters are ignored (at most 64 '
                "parameters in all). Every answer is sent with Cache-Control: no-store."
            ),
        },
        "paths": {
            "/": _open(
                "Simplified interface: links to every API (HTML).",
                {"text/html": {"schema": _STRING}},
            ),
            "/products": _report("Peak of every product and Cloud Pak in the period.", "Product"),
            "/bundled_products": _report(
                "Peak of every product counted towards a Cloud Pak.", "BundledProduct"
            ),
            "/services": _report("Peak of every service of a bundled product.", "Service"),
            "/compliance": _report(
                "Period peak of every product with usage or an entitlement, against the "
                "entitlement: OK (< 80 %), NEAR (80-100 %), OVER (> 100 %), UNENTITLED.",
                "Compliance",
            ),
            "/health": _authenticated(
                "Health of the collector and what could not be counted.",
                [_ref("parameters", "token")],
                {"description": "OK or DEGRADED, and why.", "content": _json("Health")},
            ),
            "/status": _authenticated(
                "Status page for a person (HTML); peaks and coverage of the period.",
                [*_PERIOD, _ref("parameters", "token")],
                {"description": "The status page.", "content": {"text/html": {"schema": _STRING}}},
                bad_request=True,
                refusal=_page_refusal(),
            ),
            "/snapshot": _authenticated(
                "Signed audit snapshot of the period (zip of CSV files).",
                [*_PERIOD, _ref("parameters", "token")],
                {
                    "description": "license-service-snapshot_<clusterId>_<from>_<to>.zip",
                    "headers": {"Content-Disposition": {"schema": _STRING}},
                    "content": {
                        "application/zip": {
                            "schema": {"type": "string", "contentMediaType": "application/zip"}
                        }
                    },
                },
                bad_request=True,
            ),
            "/usage_explained": _usage_explained(),
            "/chargeback_groups": _authenticated(
                "Chargeback groups and their namespaces, as labelled now (SPEC 8).",
                [_ref("parameters", "format"), _ref("parameters", "token")],
                {
                    "description": "Groups sorted by name; CSV: groupName,namespace rows.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": _ref("schemas", "ChargebackGroup")}
                        },
                        "text/csv": {"schema": _STRING},
                    },
                },
                bad_request=True,
            ),
            "/version": _open("Version, build date and commit.", _json("Version")),
            "/livez": _open("The process answers.", _json("Probe")),
            "/readyz": _open(
                "Ready: the database answers and the cluster was synchronised once.",
                _json("Probe"),
                errors={"503": _ref("responses", "ServiceUnavailable")},
            ),
            "/openapi.json": _open(
                "This document.", {"application/json": {"schema": {"type": "object"}}}
            ),
            UPLOAD_PATH: UPLOAD_PATH_ITEM,
        },
        "components": {
            "schemas": {**_SCHEMAS, **UPLOAD_SCHEMAS},
            "parameters": _PARAMETERS,
            "responses": _RESPONSES,
            "securitySchemes": {
                "apiToken": {"type": "apiKey", "in": "query", "name": "token"},
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The API token, or a Kubernetes service-account token.",
                },
                **UPLOAD_SECURITY_SCHEMES,
            },
        },
    }
