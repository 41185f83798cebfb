"""The HTTP answer of a report body: JSON, or CSV as a download named for what it holds."""

from __future__ import annotations

from typing import Final

from starlette.responses import Response

JSON_MEDIA_TYPE: Final = "application/json"
CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"


def report_response(body: bytes, *, format: str, csv_file_name: str) -> Response:
    """``body`` as JSON, or (``format`` ``csv``) as the attachment ``csv_file_name``."""
    if format == "csv":
        return Response(
            body,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{csv_file_name}"'},
        )
    return Response(body, media_type=JSON_MEDIA_TYPE)
