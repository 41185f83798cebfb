"""The OpenAPI description of ``POST /v2/metric_upload`` (SPEC 10), with examples.

Kept beside the route, merged into ``web.openapi``'s document: the path, the item and
answer schemas, and the upload token's security schemes. Pure.
"""

from __future__ import annotations

from typing import Any, Final

from license_service.metering.upload_items import MAX_DAYS_BACK, MAX_ITEMS, MAX_TEXT_LENGTH
from license_service.metering.uploads import AggregationPolicy

JsonObject = dict[str, Any]

_TEXT: Final = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH}
_DAY: Final = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _error(description: str) -> JsonObject:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


UPLOAD_SCHEMAS: Final[JsonObject] = {
    "UploadItem": {
        "type": "object",
        "additionalProperties": False,
        "required": ["productId", "productName", "productMetric", "metricValue"],
        "properties": {
            "productId": _TEXT,
            "productName": _TEXT,
            "productMetric": {**_TEXT, "examples": ["API_CALLS", "AUTHORIZED_USER"]},
            "metricValue": {"type": "number", "minimum": 0, "exclusiveMaximum": 10**15},
            "aggregationPolicy": {
                "enum": [policy.value for policy in AggregationPolicy],
                "default": "MAX",
                "description": (
                    "Per product, metric and day: MAX keeps the highest value; ADD adds the "
                    "day's values; ADD_MONTHLY makes a day's value the sum from the first of "
                    "its month through that day. A product and metric keep one policy."
                ),
            },
            "cloudpakId": {**_TEXT, "description": "Makes the product a bundled product."},
            "cloudpakName": {**_TEXT, "description": "Required with cloudpakId."},
            "cloudpakMetric": {**_TEXT, "description": "Defaults to productMetric."},
            "productCloudpakRatio": {"type": "string", "default": "1:1", "examples": ["2:1"]},
            "date": {
                **_DAY,
                "description": (
                    f"The UTC day of the value: today by default, one of the {MAX_DAYS_BACK} "
                    "days ending today, never in the future."
                ),
            },
            "logDate": {**_DAY, "description": "Another spelling of date."},
            "submissionId": {
                **_TEXT,
                "description": (
                    "The client's id of this item: a resend is acknowledged, not applied twice."
                ),
            },
        },
    },
    "UploadAccepted": {
        "type": "object",
        "additionalProperties": False,
        "required": ["accepted"],
        "properties": {
            "accepted": {
                "type": "integer",
                "minimum": 1,
                "description": "The items of the request (resent ones included).",
            }
        },
    },
}

UPLOAD_SECURITY_SCHEMES: Final[JsonObject] = {
    "uploadToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "The upload token (`license-service token get --upload`).",
    },
    "uploadBearer": {"type": "http", "scheme": "bearer", "description": "The upload token."},
}

_EXAMPLE_MONTHLY: Final = {
    "productId": "ibm-api-connect",
    "productName": "IBM API Connect",
    "productMetric": "API_CALLS",
    "metricValue": 125000,
    "aggregationPolicy": "ADD_MONTHLY",
    "cloudpakId": "cp4i",
    "cloudpakName": "IBM Cloud Pak for Integration",
    "productCloudpakRatio": "1000000:1",
    "date": "2026-12-05",
    "submissionId": "apic-2026-12-05",
}

UPLOAD_PATH_ITEM: Final[JsonObject] = {
    "post": {
        "summary": "Upload usage that pods cannot show (upload token only).",
        "security": [{"uploadToken": []}, {"uploadBearer": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/UploadItem"},
                            {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_ITEMS,
                                "items": {"$ref": "#/components/schemas/UploadItem"},
                            },
                        ]
                    },
                    "examples": {
                        "one": {
                            "summary": "Managed servers of today, highest value counts",
                            "value": {
                                "productId": "ibm-wxs",
                                "productName": "IBM WebSphere eXtreme Scale",
                                "productMetric": "MANAGED_SERVER",
                                "metricValue": 12,
                            },
                        },
                        "monthly": {
                            "summary": "A day's API calls adding up over the month",
                            "value": [_EXAMPLE_MONTHLY],
                        },
                    },
                }
            },
        },
        "responses": {
            "200": {
                "description": "Every item accepted (all or nothing).",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/UploadAccepted"},
                        "example": {"accepted": 1},
                    }
                },
            },
            "400": _error(
                "An item is invalid (the message names its index, the field and the fix), "
                f"the array is empty or holds more than {MAX_ITEMS:,} items, or the body is "
                "not JSON. Nothing is stored."
            ),
            "401": _error("No upload token, or not this service's."),
            "403": _error("The API token was sent: it may not upload."),
            "405": _error("Only POST is allowed on this path."),
            "409": _error("A product and metric keep the policy of their first upload."),
            "413": _error("The body is over 1 MiB."),
            "415": _error("The body is not sent as application/json."),
            "429": _error("Too many failed attempts from this client."),
            "503": _error("The database cannot be written now."),
        },
    }
}
