"""``license-service upload``: send usage that pods cannot show to a service (SPEC 10).

For an operator who corrects or adds a value by hand, or a script: the items come from
a JSON file (one object or an array, as the endpoint takes them; ``-`` reads standard
input) or from flags describing one item. The upload token is read from
``--token-file`` or the data directory's ``upload-token`` (``--data-dir``), never
from the command line. Items are checked here first, with the server's own rules
(``metering.upload_items``), so a mistake is named before anything is sent; the
server still judges. Every refusal prints the server's status and message (exit code
2 for a refused request, 1 when the server cannot be reached).
"""

from __future__ import annotations

import http
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from license_service.cli import options as flags
from license_service.cli.upload_request import send_upload
from license_service.errors import ConfigurationError, InputError, UploadRefusedError
from license_service.metering.upload_items import upload_submissions
from license_service.runtime.options import DEFAULT_DATA_DIR
from license_service.tokens.file_store import read_token_text
from license_service.tokens.kinds import UPLOAD_TOKEN
from license_service.tokens.rules import token_problem

ItemsArgument = Annotated[
    Path | None,
    typer.Argument(
        metavar="FILE",
        help="A JSON file of items (one object or an array of up to 1,000); '-' reads stdin. "
        "Without it, the flags describe one item.",
        show_default=False,
    ),
]


def _text(flag: str, help_text: str) -> Any:
    return flags.optional(flag, metavar="TEXT", help_text=help_text)


def upload_command(
    items: ItemsArgument = None,
    *,
    url: Annotated[
        str, typer.Option("--url", metavar="URL", help="The service's address.")
    ] = "http://127.0.0.1:8080",
    token_file: Annotated[
        Path | None, flags.token_file("Read the upload token from this file.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        flags.data_dir(
            f"Read the upload token from DIR/upload-token (default: ./{DEFAULT_DATA_DIR})."
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        flags.optional(
            "--ca-file", metavar="FILE", help_text="Trust this certificate for HTTPS (crt.pem)."
        ),
    ] = None,
    product_id: Annotated[str | None, _text("--product-id", "productId of the one item.")] = None,
    product_name: Annotated[str | None, _text("--product-name", "productName.")] = None,
    metric: Annotated[str | None, _text("--metric", "productMetric, e.g. API_CALLS.")] = None,
    value: Annotated[
        str | None, flags.optional("--value", metavar="NUMBER", help_text="metricValue (>= 0).")
    ] = None,
    policy: Annotated[
        str | None, _text("--policy", "aggregationPolicy: MAX (default), ADD or ADD_MONTHLY.")
    ] = None,
    day: Annotated[
        str | None,
        flags.optional("--date", metavar="YYYY-MM-DD", help_text="The UTC day (default today)."),
    ] = None,
    cloudpak_id: Annotated[str | None, _text("--cloudpak-id", "cloudpakId.")] = None,
    cloudpak_name: Annotated[str | None, _text("--cloudpak-name", "cloudpakName.")] = None,
    cloudpak_metric: Annotated[str | None, _text("--cloudpak-metric", "cloudpakMetric.")] = None,
    ratio: Annotated[str | None, _text("--ratio", "productCloudpakRatio, e.g. 2:1.")] = None,
    submission_id: Annotated[
        str | None, _text("--submission-id", "submissionId: a resend is counted once.")
    ] = None,
) -> None:
    """Upload usage values to a service's POST /v2/metric_upload (the upload token only)."""
    fields = {
        "productId": product_id,
        "productName": product_name,
        "productMetric": metric,
        "metricValue": _number(value) if value is not None else None,
        "aggregationPolicy": policy,
        "date": day,
        "cloudpakId": cloudpak_id,
        "cloudpakName": cloudpak_name,
        "cloudpakMetric": cloudpak_metric,
        "productCloudpakRatio": ratio,
        "submissionId": submission_id,
    }
    given = {name: given for name, given in fields.items() if given is not None}
    if items is not None and given:
        raise ConfigurationError(
            f"give either a FILE of items or the item's flags ({', '.join(given)}), not both"
        )
    body = _read_items(items) if items is not None else given
    if not body:
        raise ConfigurationError(
            "nothing to upload: give a JSON FILE of items, or --product-id, --product-name, "
            "--metric and --value"
        )
    # The server's own rules, so a mistake is named before anything is sent.
    upload_submissions(body, today=datetime.now(UTC).date())
    token = _upload_token(token_file=token_file, data_dir=data_dir)
    encoded = _exact_json(body)
    answer = send_upload(encoded, url=url, token=token, ca_file=ca_file)
    if answer.status == 200 and answer.accepted is not None:
        typer.echo(f"accepted {answer.accepted} item{'s' if answer.accepted != 1 else ''}")
        return
    phrase = _phrase(answer.status)
    raise UploadRefusedError(
        f"the server refused the upload ({answer.status} {phrase}): "
        f"{answer.message or 'no message'}"
    )


def _read_items(path: Path) -> Any:
    try:
        raw = typer.get_binary_stream("stdin").read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the items: {exc.strerror or exc}") from exc
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc}); write one object or an array") from exc


def _number(text: str) -> int | Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ConfigurationError(f"--value {text!r} is not a number; give e.g. 12 or 2.5") from exc
    return int(number) if number == number.to_integral_value() and "." not in text else number


_EXACT: Final = "\u2063exact-number:"
_EXACT_IN_JSON: Final = re.compile(r'"\\u2063exact-number:([0-9.eE+-]+)"')


def _exact_json(body: Any) -> bytes:
    """``body`` as JSON with every ``Decimal`` written as the number it is (not a float's)."""

    def marked(value: object) -> str:
        if isinstance(value, Decimal):
            return f"{_EXACT}{value}"
        raise TypeError(type(value).__name__)

    text = json.dumps(body, default=marked)
    return _EXACT_IN_JSON.sub(r"\1", text).encode("utf-8")


def _upload_token(*, token_file: Path | None, data_dir: Path | None) -> str:
    if token_file is not None and data_dir is not None:
        raise ConfigurationError("--token-file and --data-dir both name the token; give one")
    path = token_file or (data_dir or DEFAULT_DATA_DIR) / UPLOAD_TOKEN.file_name
    token = read_token_text(path)
    if token is None:
        raise ConfigurationError(
            f"{path}: there is no upload token file; give --token-file, or the service's "
            "--data-dir (it writes upload-token there at its first start)"
        )
    problem = token_problem(token, forced=True)
    if problem is not None:
        raise ConfigurationError(
            f"{path}: the upload token there is invalid: {problem.description}"
        )
    return token


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"
