"""`jsontext` writes the bytes `json.dumps(..., ensure_ascii=False, indent=1)` writes.

`gate.json` and `baseline.json` are made by it (the baseline's seal covers its
exact bytes), so any difference in escaping or layout is a changed file.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from recon.gate import jsontext

AWKWARD = [
    'a"b\\c',
    "x\x00\x01\x1f\x7f\b\f\n\r\t",
    "日本語\u2028\u2029/ ｶﾅ",
    None,
    "",
    "\ud7ff\ue000\U0001f600",
    "1000-181800-00",
]


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "text": [AWKWARD[i % len(AWKWARD)] for i in range(rows)],
            "row": [None if i % 5 == 0 else i * 1_000_003 - 7 for i in range(rows)],
            "flag": [None if i % 4 == 0 else i % 2 == 0 for i in range(rows)],
            "on": [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(rows)],
        },
        schema={"text": pl.String, "row": pl.Int64, "flag": pl.Boolean, "on": pl.Date},
    )


@pytest.mark.parametrize("rows", [0, 1, 7, 12])
def test_a_document_with_records_and_a_mapping_is_json_dumps_byte_for_byte(monkeypatch, rows):
    monkeypatch.setattr(jsontext, "ROWS_PER_PIECE", 5)  # several pieces, joined across
    frame = _frame(rows)
    homes = pl.DataFrame(
        {
            "household_id": [None if i == 3 else f'H{i}\n"{AWKWARD[i % 3]}' for i in range(rows)],
            "status": ["domestic" if i % 2 else "overseas/留学" for i in range(rows)],
        }
    )
    findings, households = jsontext.Spliced("findings"), jsontext.Spliced("households")
    document = {
        "verdict": "fail",
        "findings": findings,
        "roster": {"fields": ["a", "b"], "households": households, "empty": {}},
        "seal": "x",
    }
    text = "".join(
        jsontext.pieces(
            document,
            {findings: jsontext.records(frame, 1), households: jsontext.mapping(homes, 2)},
            default=str,
        )
    )
    expected = {
        **document,
        "findings": frame.to_dicts(),
        "roster": {**document["roster"], "households": dict(homes.iter_rows())},
    }
    assert text == json.dumps(expected, ensure_ascii=False, indent=1, default=str) + "\n"


def test_a_float_column_is_refused_rather_than_written_otherwise_than_python():
    with pytest.raises(TypeError, match="no JSON text"):
        list(jsontext.records(pl.DataFrame({"ratio": [0.1]}), 1))


def test_a_part_missing_from_the_document_is_an_error_not_a_silent_omission():
    missing = jsontext.Spliced("findings")
    with pytest.raises(ValueError, match="findings"):
        "".join(jsontext.pieces({"a": 1}, {missing: iter(["[]"])}))
