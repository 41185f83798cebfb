"""A cluster dump whose annotations hold HTML and script, as anyone who can create a pod may write.

Built from the e2e fixture dump with more running pods: a product named
``<script>alert(1)</script>``, a bundled product whose names are HTML with event
handlers, a pod whose invalid ratio is HTML (listed as a problem), products named with
a ``javascript:`` URL, an attribute breakout, a quote-and-tag breakout and template
syntax, a Cloud Pak name that closes the table, and an invalid ratio holding SVG.
Pages must show all of it as text.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Final

from tests.e2e.processes import DUMP

SCRIPT_PRODUCT_NAME: Final = "<script>alert(1)</script>"
SCRIPT_PRODUCT_ID: Final = "hostile-product"
IMAGE_PRODUCT_NAME: Final = "<img src=x onerror=alert(2)>"
SVG_CLOUDPAK_NAME: Final = "<svg onload=alert(3)>"
SVG_CLOUDPAK_ID: Final = "hostile-cloudpak"
BOLD_RATIO: Final = "<b>2</b>:1"
# Values that break out of an attribute, a URL or a template if one is ever built from them.
JAVASCRIPT_URL_NAME: Final = "javascript:alert(4)"
ATTRIBUTE_NAME: Final = '" onmouseover="alert(5)" data-x="'
QUOTE_IMAGE_NAME: Final = "'><img src=x onerror=alert(6)>"
TABLE_BREAKOUT_CLOUDPAK: Final = "</td></tr></table><script>alert(7)</script>"
SVG_RATIO: Final = "<svg/onload=alert(8)>:1"
TEMPLATE_NAME: Final = "{{ 7*7 }}{% raw %}"
INJECTED_NAMES: Final = (JAVASCRIPT_URL_NAME, ATTRIBUTE_NAME, QUOTE_IMAGE_NAME, TEMPLATE_NAME)


def write_hostile_dump(path: Path) -> Path:
    """Write the fixture dump plus the hostile pods to ``path``; return ``path``."""
    dump: dict[str, Any] = json.loads(DUMP.read_text())
    template = next(
        item
        for item in dump["items"]
        if item["kind"] == "Pod" and item["metadata"]["name"] == "was-liberty-0"
    )
    dump["items"] += [
        _pod_like(
            template,
            name="hostile-product-0",
            annotations={
                "productID": SCRIPT_PRODUCT_ID,
                "productName": SCRIPT_PRODUCT_NAME,
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
            },
        ),
        _pod_like(
            template,
            name="hostile-bundle-0",
            annotations={
                "productID": "hostile-bundled-product",
                "productName": IMAGE_PRODUCT_NAME,
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "cloudpakId": SVG_CLOUDPAK_ID,
                "cloudpakName": SVG_CLOUDPAK_NAME,
            },
        ),
        *(
            _pod_like(
                template,
                name=f"hostile-injection-{index}",
                annotations={
                    "productID": f"hostile-injection-{index}",
                    "productName": name,
                    "productMetric": "VIRTUAL_PROCESSOR_CORE",
                    "productVersion": name,
                },
            )
            for index, name in enumerate(INJECTED_NAMES)
        ),
        _pod_like(
            template,
            name="hostile-table-0",
            annotations={
                "productID": "hostile-table-product",
                "productName": "Table product",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "cloudpakId": "hostile-table-cloudpak",
                "cloudpakName": TABLE_BREAKOUT_CLOUDPAK,
            },
        ),
        _pod_like(
            template,
            name="hostile-svg-ratio-0",
            annotations={
                "productID": "hostile-svg-ratio-product",
                "productName": "SVG ratio product",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "cloudpakId": SVG_CLOUDPAK_ID,
                "cloudpakName": SVG_CLOUDPAK_NAME,
                "productCloudpakRatio": SVG_RATIO,
            },
        ),
        _pod_like(
            template,
            name="hostile-ratio-0",
            annotations={
                "productID": "hostile-ratio-product",
                "productName": "Ratio product",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "cloudpakId": SVG_CLOUDPAK_ID,
                "cloudpakName": SVG_CLOUDPAK_NAME,
                "productCloudpakRatio": BOLD_RATIO,
            },
        ),
    ]
    path.write_text(json.dumps(dump))
    return path


def _pod_like(template: dict[str, Any], *, name: str, annotations: dict[str, str]) -> Any:
    pod = copy.deepcopy(template)
    pod["metadata"]["name"] = name
    pod["metadata"]["uid"] = (
        f"00000000-0000-4000-8000-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    )
    pod["metadata"]["annotations"] = annotations
    pod["metadata"].pop("managedFields", None)
    return pod
