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
import re
import unicodedata
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


# A cell that is exactly a negative decimal number (a compliance headroom, -1.5) is read
# as that number: nothing can follow the digits, so nothing runs.
NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


def assert_no_cell_runs(rows: list[list[str]], what: str) -> None:
    for row in rows:
        for cell in row:
            if NEGATIVE_NUMBER.fullmatch(cell):
                continue
            assert not cell.startswith(FORMULA_STARTS), f"{what}: {cell!r} would run"


@pytest.mark.parametrize("path", ["/products", "/bundled_products", "/services", "/compliance"])
def test_api_csv_cells_that_look_like_formulas_are_quoted(client: TestClient, path: str) -> None:
    response = client.get(path, params={**PERIOD, "token": TOKEN, "format": "csv"})

    assert response.status_code == 200
    rows = cells_of(response.text)
    assert len(rows) > 1
    assert_no_cell_runs(rows, path)


def test_an_explanations_csv_keeps_formula_names_behind_a_quote(client: TestClient) -> None:
    params = {"productId": "html", "metricName": "VIRTUAL_PROCESSOR_CORE", "token": TOKEN}
    response = client.get("/usage_explained", params={**params, "format": "csv"})

    rows = cells_of(response.text)
    assert_no_cell_runs(rows, "/usage_explained")
    assert {"'=1+2", "'@SUM(A1)", f"'{FORMULA_NAMES[0]}"} <= {cell for row in rows for cell in row}
    names = {
        c["namespace"]
        for c in client.get("/usage_explained", params=params).json()["contributions"]
    }
    assert "=1+2" in names  # JSON keeps names as written


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
    # Five of SPEC 5, uploads_<s>.csv (SPEC 10) and compliance_<s>.csv (SPEC 13).
    assert len(csv_names) == 7
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
        if written.startswith(FORMULA_STARTS):
            assert cell == f"'{written}"
        else:
            # Guarded also when a spreadsheet would see a formula behind invisible characters.
            assert cell == (f"'{written}" if _seen_as_formula(written) else written)


def _seen_as_formula(cell: str) -> bool:
    """The cell as a spreadsheet shows it, the slow way: invisible characters dropped, NFKC."""
    shown = "".join(
        character
        for character in cell
        if character in "\t\r" or unicodedata.category(character) not in {"Cc", "Cf", "Zl", "Zp"}
    )
    return "".join(unicodedata.normalize("NFKC", c) for c in shown[:1]).startswith(FORMULA_STARTS)


_DISGUISES = st.sampled_from(["\x00", "\x1f", "\x85", "\ufeff", "\u200b", "\u2028", "\u202e"])
_LOOKALIKES = st.sampled_from(
    ["\uff1d", "\uff0b", "\uff0d", "\uff20", "﹦", "﹢", "﹣", "﹫", "⁼", "₊"]
)


@pytest.mark.soak
@settings(max_examples=soak_or(300, 10_000), deadline=None)
@given(
    cell=st.tuples(
        st.lists(_DISGUISES, max_size=3).map("".join),
        # No lone surrogate: UTF-8 cannot write one, and none reaches a CSV file (entries
        # refuse them, ``formats.unsafe_characters``; neither database can hold one).
        st.one_of(
            _LOOKALIKES,
            st.sampled_from(FORMULA_STARTS),
            st.characters(exclude_categories=("Cs",)),
        ),
        st.text(max_size=8),
    ).map("".join)
)
def test_a_disguised_formula_is_guarded_and_any_other_cell_kept_as_written(cell: str) -> None:
    [read] = cells_of(csv_line([cell, "x"]).decode("utf-8"))

    assert read == [f"'{cell}" if _seen_as_formula(cell) else cell, "x"]


DISGUISED_FORMULAS = [
    "\x00=1+1",  # a NUL first: spreadsheets drop it and run the rest
    "\x00\x00@SUM(A1)",
    "\x1b-2+3",
    "\x85+1",
    "\ufeff=1+1",  # a byte-order mark
    "\u200b=1+1",  # a zero-width space
    "\u202e=1+1",
    '\uff1dHYPERLINK("http://evil.example")',  # fullwidth, which NFKC makes '='
    "\uff0b1+1",
    "\uff0d2+3",
    "\uff20SUM(A1:A2)",
    "﹦1+1",  # small equals sign
    "﹢1",
    "﹣1",
    "﹫x",
    "\x00\uff1d1",
]


@pytest.mark.parametrize("cell", DISGUISED_FORMULAS, ids=lambda cell: f"U+{ord(cell[0]):04X}")
def test_a_formula_behind_control_characters_or_in_fullwidth_is_guarded(cell: str) -> None:
    [read] = cells_of(csv_line([cell, "x"]).decode("utf-8"))

    assert read == [f"'{cell}", "x"]


@pytest.mark.parametrize(
    "cell",
    ["IBM MQ", "製品", "\x00plain", "\uff04100", "ー長音", "\u200bword", "e\u0301", "", "1=1"],
)
def test_a_cell_that_needs_no_guard_keeps_its_bytes(cell: str) -> None:
    assert csv_line([cell, 7]) == (_rfc4180(cell) + ",7\r\n").encode("utf-8")


def _rfc4180(cell: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(c in cell for c in ',"\r\n') else cell
