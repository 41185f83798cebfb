"""Names written as spreadsheet formulas are shown, never run, in every CSV the service gives.

Pod annotations become product, Cloud Pak and service names; anyone who can create a
pod can name a product ``=HYPERLINK(...)``. SPEC 5: a text cell beginning with ``=``,
``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``. Checked on the CSV
of the three report endpoints and on every CSV file of a snapshot, over a real store
holding such names, and on generated cells.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from license_service.formats.csv_lines import FORMULA_STARTS, csv_line
from tests.hostile.conftest import FORMULA_NAMES, TOKEN
from tests.soak import soak_or

PERIOD = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}


def cells_of(text: str) -> list[list[str]]:
    """The rows of a CSV document, as a spreadsheet importing it would split them."""
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_no_cell_runs(rows: list[list[str]], what: str) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"{what}: {cell!r} would run"


@pytest.mark.parametrize("path", ["/products", "/bundled_products", "/services"])
def test_api_csv_cells_that_look_like_formulas_are_quoted(client: TestClient, path: str) -> None:
    response = client.get(path, params={**PERIOD, "token": TOKEN, "format": "csv"})

    assert response.status_code == 200
    rows = cells_of(response.text)
    assert len(rows) > 1
    assert_no_cell_runs(rows, path)


def test_every_formula_name_of_products_is_kept_behind_a_quote(client: TestClient) -> None:
    response = client.get("/products", params={**PERIOD, "token": TOKEN, "format": "csv"})

    names = {row[0] for row in cells_of(response.text)[1:]}
    assert {f"'{name}" for name in FORMULA_NAMES} <= names


def test_json_keeps_names_as_written(client: TestClient) -> None:
    rows = client.get("/products", params={**PERIOD, "token": TOKEN}).json()

    assert set(FORMULA_NAMES) <= {row["name"] for row in rows}


def test_every_csv_file_of_a_snapshot_quotes_formula_cells(client: TestClient) -> None:
    response = client.get("/snapshot", params={**PERIOD, "token": TOKEN})

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    csv_names = [name for name in archive.namelist() if name.endswith(".csv")]
    assert len(csv_names) == 5
    quoted = set()
    for name in csv_names:
        rows = cells_of(archive.read(name).decode("utf-8"))
        assert_no_cell_runs(rows, name)
        quoted |= {cell for row in rows for cell in row if cell.startswith("'")}
    assert {f"'{name}" for name in FORMULA_NAMES} <= quoted
    assert {"'=1+2", "'@cloudpak", "'-4.8", "'+service"} <= quoted


@pytest.mark.soak
@settings(max_examples=soak_or(200, 5_000), deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.text(max_size=20),
            st.tuples(st.sampled_from(FORMULA_STARTS), st.text(max_size=10)).map("".join),
        ),
        min_size=2,  # rows always have several columns; one empty cell reads as no cell
        max_size=6,
    )
)
def test_any_text_cell_reads_back_as_written_or_behind_a_quote(cells: list[str]) -> None:
    [read] = cells_of(csv_line(cells).decode("utf-8"))

    assert len(read) == len(cells)
    for written, cell in zip(cells, read, strict=True):
        assert cell == (f"'{written}" if written.startswith(FORMULA_STARTS) else written)
