"""Pandera's data checks really run, and failures carry the file row and member."""

import datetime as dt

import polars as pl

from recon.columns import SCHEMAS, as_date
from recon.normalize import normalize
from recon.read import read_table
from recon.validate import schema, validate
from tests.conftest import ROSTER, member, printed_by_fresh_python, write_csv


def _validated(tmp_path, rows):
    frame = normalize(
        read_table(write_csv(tmp_path / "r.csv", rows, ROSTER), "roster")[0], "roster"
    )
    return frame, *validate(frame, "roster")


def test_data_checks_run_not_only_the_schema(tmp_path):
    # Pandera checks only the schema of a LazyFrame; a data-level failure must still be caught.
    rows = [member(), member(employee="E2", sex="9", birth_date="2024-02-30", postal_code="12345")]
    frame, typed, findings = _validated(tmp_path, rows)
    assert findings.select("row", "field").rows() == [
        (2, "birth_date"),
        (2, "postal_code"),
        (2, "sex"),
    ]
    assert set(findings["check"]) == {"input.invalid_value"}
    assert "「2024-02-30」" in findings.filter(pl.col("field") == "birth_date")["detail"][0]
    # The unreadable cells are nulled for later steps; dates leave typed.
    assert typed["sex"].to_list() == ["1", None]
    assert typed.schema["birth_date"] == pl.Date and typed["birth_date"][1] is None


def test_dates_typed_from_normalize_are_the_dates_validation_would_parse(tmp_path):
    """normalize puts each date's Date beside it (`columns.as_date`), worked out per
    distinct value; validation types the dates from it. Without it (a frame that did
    not come through normalize) validation parses the text itself: the same answer,
    an ISO date outside the plausible window included."""
    births = ["1985-03-12", "S60.3.12", "昭和60年3月12日", "1800-01-01", "2024-02-30",
              "19850312", "5600312", "  ", "H31.5.1", "令和元年5月1日", "1985/3/12"]  # fmt: skip
    rows = [member(employee=f"E{i}", birth_date=b) for i, b in enumerate(births)]
    frame = normalize(
        read_table(write_csv(tmp_path / "r.csv", rows, ROSTER), "roster")[0], "roster"
    )
    assert frame.schema[as_date("birth_date")] == pl.Date
    beside = validate(frame, "roster")
    companions = [as_date(c.name) for c in SCHEMAS["roster"] if c.kind == "date"]
    parsed = validate(frame.drop(companions), "roster")
    assert not set(companions) & set(beside[0].columns)
    assert beside[0].equals(parsed[0]) and beside[1].equals(parsed[1])
    assert beside[0]["birth_date"].to_list()[:5] == [
        dt.date(1985, 3, 12), dt.date(1985, 3, 12), dt.date(1985, 3, 12), dt.date(1800, 1, 1), None
    ]  # fmt: skip
    # 2024-02-30 cannot be read; the blank one is required.
    assert beside[1].filter(pl.col("field") == "birth_date")["row"].to_list() == [5, 8]


def test_required_empty_value_is_reported(tmp_path):
    _, _, findings = _validated(tmp_path, [member(name="")])
    assert findings.select("row", "field").rows() == [(1, "name")]
    assert findings["detail"][0] == "氏名（name）：必須ですが空欄です"


def test_the_my_number_is_never_handed_to_pandera():
    # A failure case would carry the raw value; the number is checked as my_number.* instead.
    assert "my_number" not in schema("filings").columns


def test_an_unknown_overseas_type_is_nulled_like_any_unreadable_code(tmp_path):
    rows = [
        member(residence="海外", overseas_type="bogus"),
        member(employee="E2", residence="海外"),
    ]
    _, typed, findings = _validated(tmp_path, rows)
    # Only the unreadable value is an input.invalid_value: an EMPTY type is no
    # unreadable value but the overseas.unknown_type finding (SPEC §5, test_rules.py).
    assert findings.select("row", "field").rows() == [(1, "overseas_type")]
    assert typed["overseas_type"].to_list() == [None, None]
    assert typed["residence"].to_list() == ["overseas", "overseas"]


def test_the_run_command_loads_pandera_in_the_background_not_before_reading():
    """Pandera, with pandas, takes ~0.6 s to import (and pyarrow 0.1 s): the run's
    modules leave them to the pipeline's background thread (`validate.preload`,
    then GX's), so the files are read meanwhile instead of after them. A
    module-level import anywhere on the way would bring the wait back."""
    probe = (
        "import sys; from recon import cli, pipeline, validate, findings; "
        "import typer; typer.main.get_group(cli._for(['run'])); "
        "before = [m for m in ('pandas', 'pandera', 'pyarrow', 'great_expectations') "
        "if m in sys.modules]; "
        "validate.preload(); print(before, 'pandera.polars' in sys.modules)"
    )
    assert printed_by_fresh_python(probe) == "[] True"


def test_nothing_imported_in_the_background_changes_the_environment():
    """Pandera and GX are imported on a thread while polars reads files, and setenv
    beside polars reading the environment can crash the process: once recon is
    imported, their imports (`validate.preload`, `gx_checks.preload`) set nothing."""
    probe = (
        "import os; from recon import cli, pipeline, validate, gx_checks; "
        "before = dict(os.environ); validate.preload(); gx_checks.preload(); "
        "print(sorted(k for k, v in os.environ.items() if before.get(k) != v))"
    )
    assert printed_by_fresh_python(probe) == "[]"
