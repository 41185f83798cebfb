"""``/metrics`` under hostile input: a bounded number of series, and an exposition that parses.

Before, every request with a method name of its own added one series to
``license_service_http_requests_total`` (20,000 random methods grew ``/metrics`` from
37 KB to 11.7 MB), and a product name holding a carriage return went out raw, so a
reader with universal newlines (any file reader, many scrapers) saw the sample cut
in two. Now every label whose value a client chooses is drawn from a closed set, and
every label value is printable: control characters and line separators are written
as ``\\xNN`` / ``\\uNNNN`` escapes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import random
import string
import unicodedata
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_fd_to_metric_families, text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message

from license_service.metering.usage import Measurement
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.application import create_app, create_metrics_app
from license_service.web.metrics.label_values import printable_label
from license_service.web.middleware.request_metrics import KNOWN_METHODS
from tests.hostile.conftest import NOW, ServiceSettings, build_state, sampler
from tests.store.sample_builders import at, bundled, product, store

RANDOM_METHODS = 20_000
HOSTILE_NAMES = (
    "carriage\rreturn",
    "line\nfeed",
    "both\r\nat once",
    "nul\x00inside",
    "line\u2028separator",
    "next\x85line",
    'quote" } 1\nfake_metric 2',
    "back\\slash\\",
    "tab\tand\x0bvertical",
    "\x1b[31mred",
)


@pytest.fixture
def state(database: Database, signing_key: object, tmp_path: object) -> AppState:
    built = build_state(database, signing_key, tmp_path, ServiceSettings())  # type: ignore[arg-type]
    hostile = Measurement(
        products=tuple(
            product(f"id-{index}\r\n{name}", index + 1, name=name)
            for index, name in enumerate(HOSTILE_NAMES)
        ),
        bundled_products=(
            bundled("db2\n", 3, product_name="bundled\rname", cloudpak_name="pak\u2029name"),
        ),
    )
    built.sampler_status = lambda: dataclasses.replace(sampler(), last_measurement=hostile)
    return built


@pytest.fixture
def api(state: AppState) -> Starlette:
    return create_app(state)


@pytest.fixture
def metrics(state: AppState) -> Iterator[TestClient]:
    with TestClient(create_metrics_app(state, CollectorRegistry())) as client:
        yield client


def random_method(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase + "-_!", k=rng.randint(3, 20)))


def series(exposition: str, name: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


async def call(app: Starlette, method: str, path: str) -> int:
    """One request straight to the ASGI app (20,000 through a test client take a minute)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def test_random_method_names_add_no_series(api: Starlette, metrics: TestClient) -> None:
    rng = random.Random(11)
    before = len(metrics.get("/metrics").content)

    async def flood() -> set[int]:
        statuses = {await call(api, random_method(rng), "/products") for _ in range(RANDOM_METHODS)}
        return statuses | {await call(api, "PROPFIND", "/nowhere")}

    statuses = asyncio.run(flood())
    exposition = metrics.get("/metrics").text

    requests = series(exposition, "license_service_http_requests_total")
    methods = {labels["method"] for labels in requests}
    assert methods <= {*KNOWN_METHODS, "other"}
    assert "other" in methods
    assert statuses <= {405, 404}
    assert len(requests) <= 16
    assert len(exposition) < before + 8 * 1024
    print(
        f"\n{RANDOM_METHODS} random methods: {len(requests)} request series, /metrics "
        f"{before:,} -> {len(exposition):,} bytes"
    )


def test_hostile_label_values_leave_the_whole_exposition_parseable(
    metrics: TestClient, database: Database
) -> None:
    store(
        database,
        at(NOW.date().isoformat(), "09:00"),
        *(product(f"stored-{index}", 2, name=name) for index, name in enumerate(HOSTILE_NAMES)),
    )
    body = metrics.get("/metrics").content

    # Read as a file would be read (universal newlines), not only as one string.
    families = list(text_fd_to_metric_families(io.TextIOWrapper(io.BytesIO(body), "utf-8")))
    text = body.decode()
    assert "\r" not in text
    assert all(char == "\n" or unicodedata.category(char) != "Cc" for char in text)
    assert not {"\u2028", "\u2029", "\x85"} & set(text)
    usage = [s for f in families for s in f.samples if s.name == "product_license_usage"]
    watermark = [
        s
        for f in families
        for s in f.samples
        if s.name == "ibm_licensing_usage_daily_high_watermark"
    ]
    assert len(usage) == len(HOSTILE_NAMES) + 1
    assert {s.labels["productName"] for s in usage} >= {printable_label(n) for n in HOSTILE_NAMES}
    assert len(watermark) >= len(HOSTILE_NAMES)
    assert not [s for f in families for s in f.samples if s.name.startswith("fake_metric")]
    assert series(text, "product_license_usage")  # and as one string, as the tests read it


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_printable_label_keeps_a_printable_value_and_escapes_the_rest(name: str) -> None:
    shown = printable_label(name)
    assert all(unicodedata.category(char) not in {"Cc", "Zl", "Zp"} for char in shown)
    assert printable_label("Plain product (v2) <b>") == "Plain product (v2) <b>"
    assert printable_label("carriage\rreturn") == "carriage\\x0dreturn"
    assert printable_label("line\u2028separator") == "line\\u2028separator"
