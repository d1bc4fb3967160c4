"""The corpus of broken inputs (issue: hardening): each case writes its files and says
what a careful tool must answer — exit 2 naming file/row/column, or a finding.

Generated at test time, so no binary oddity is committed to the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from tests.conftest import FILINGS, ROSTER, filing, member, write_csv


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], tuple[Path, Path]]  # folder -> (roster, filings)
    exit_code: int
    says: tuple[str, ...] = ()  # substrings of the exit-2 message ({roster} is the roster path)
    finding: tuple[str, int, str] | None = None  # (check, roster row, field) expected in findings


def _good(folder: Path, roster_rows=None, filing_rows=None) -> tuple[Path, Path]:
    insured = member()
    roster_rows = roster_rows if roster_rows is not None else [insured]
    filing_rows = filing_rows if filing_rows is not None else [filing(insured)]
    return write_csv(folder / "roster.csv", roster_rows, ROSTER), write_csv(
        folder / "filings.csv", filing_rows, FILINGS
    )


def _roster_bytes(data: bytes) -> Callable[[Path], tuple[Path, Path]]:
    def write(folder: Path) -> tuple[Path, Path]:
        roster, filings = _good(folder)
        roster.write_bytes(data)
        return roster, filings

    return write


def _header() -> str:
    return ",".join(c.headers[0] for c in ROSTER)


def _line(**values: str) -> str:
    row = member(**values)
    return ",".join(row[c.name] for c in ROSTER)


def _roster_text(text: str, encoding: str = "utf-8") -> Callable[[Path], tuple[Path, Path]]:
    return _roster_bytes(text.encode(encoding))


def _xlsx(folder: Path, sheets: dict[str, list[list[str]]], merge_header: bool = False) -> Path:
    path = folder / "roster.xlsx"
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
        if merge_header:
            # One merged cell 記号・番号 over the two columns, as hand-made workbooks do.
            sheet.merge_range(0, 1, 0, 2, "記号・番号")
    book.close()
    return path


def _xlsx_case(
    second_sheet: bool = False, merged: bool = False, split: bool = False, form: bool = False
) -> Callable[[Path], tuple[Path, Path]]:
    def write(folder: Path) -> tuple[Path, Path]:
        _, filings = _good(folder)
        header = [c.headers[0] for c in ROSTER]
        rows = [header, [member()[c.name] for c in ROSTER]]
        sheets = {"説明": [["この台帳について"]], "台帳": rows} if second_sheet else {"台帳": rows}
        if split:  # the roster on two sheets: 本社 and 支社
            other = member(employee="E2", number="2")
            sheets = {"本社": rows, "支社": [header, [other[c.name] for c in ROSTER]]}
        if form:  # an empty form beside the data: its header row and blank rows
            sheets = {"台帳": rows, "様式": [header, [""] * len(header)]}
        return _xlsx(folder, sheets, merge_header=merged), filings

    return write


def _parquet_wrong_types(folder: Path) -> tuple[Path, Path]:
    roster, _ = _good(folder)
    insured = member()
    typed = {c.name: filing(insured)[c.name] for c in FILINGS}
    frame = pl.DataFrame([typed]).with_columns(
        pl.col("my_number").cast(pl.Int64) * 0
        + 23456789013,  # an integer column lost the leading 0
        pl.lit(19800401).alias("birth_date"),
        pl.lit(1).alias("sex"),
    )
    path = folder / "filings.parquet"
    frame.write_parquet(path)
    return roster, path


def _same_file(folder: Path) -> tuple[Path, Path]:
    roster, _ = _good(folder)
    return roster, roster


def _embedded_newline(folder: Path) -> tuple[Path, Path]:
    # Row 1 has a quoted name spanning two lines; row 2 has a bad sex code.
    text = "\n".join([_header(), _line(name='"山田\n太郎"'), _line(employee="E2", sex="9")]) + "\n"
    roster, filings = _good(folder)
    roster.write_text(text, encoding="utf-8")
    return roster, filings


def _too_few_fields(folder: Path) -> tuple[Path, Path]:
    roster, filings = _good(folder)
    short = ",".join(_line().split(",")[:10])
    roster.write_text(f"{_header()}\n{_line()}\n{short}\n", encoding="utf-8")
    return roster, filings


def _empty_required_column(folder: Path) -> tuple[Path, Path]:
    return _good(
        folder, [member(employee="E1", postal_code=""), member(employee="E2", postal_code="")], []
    )


def _huge_name(folder: Path) -> tuple[Path, Path]:
    insured = member(name="山" * 1_000_000)
    return _good(folder, [insured], [filing(insured, name="川" * 1_000_000, branch="00")])


CASES = [
    Case("empty file", _roster_bytes(b""), 2, ("{roster}", "ファイルが空です")),
    Case("header only", _roster_text(_header() + "\n"), 2, ("{roster}", "加入者が1人もいません")),
    Case("binary garbage", _roster_bytes(bytes(range(256)) * 4), 2, ("{roster}",)),
    Case(
        "UTF-16",
        _roster_bytes(("\ufeff" + _header() + "\n").encode("utf-16-le")),
        2,
        ("{roster}", "UTF-16"),
    ),
    Case(
        "CP932 with invalid bytes",
        _roster_bytes((_header() + "\n" + _line()).encode("cp932") + b"\x82\xff\n"),
        2,
        ("{roster}", "2行目"),
    ),
    Case(
        "NUL bytes",
        _roster_bytes((_header() + "\n").encode() + b"\x00\x00"),
        2,
        ("{roster}", "NUL"),
    ),
    Case(
        "mixed line endings",
        _roster_text(_header() + "\r\n" + _line() + "\n" + _line(employee="E2", sex="9") + "\r\n"),
        0,
        finding=("input.invalid_value", 2, "sex"),
    ),
    Case(
        "old-Mac CR-only line endings",
        _roster_text(_header() + "\r" + _line() + "\r" + _line(employee="E2", sex="9") + "\r"),
        0,
        finding=("input.invalid_value", 2, "sex"),
    ),
    Case(
        "mixed CR and CRLF line endings",
        _roster_text(_header() + "\r\n" + _line() + "\r" + _line(employee="E2", sex="9") + "\r\n"),
        0,
        finding=("input.invalid_value", 2, "sex"),
    ),
    Case(
        "CR-only with a quoted line break in a value",
        _roster_text(
            _header()
            + "\r"
            + _line(address='"東京都\r千代田区"')
            + "\r"
            + _line(employee="E2", sex="9")
        ),
        0,
        finding=("input.invalid_value", 2, "sex"),
    ),
    Case(
        "quoted field with embedded newline",
        _embedded_newline,
        0,
        finding=("input.invalid_value", 2, "sex"),
    ),
    Case(
        "too many fields",
        _roster_text(_header() + "\n" + _line() + ",extra\n"),
        2,
        ("{roster}", "データの1行目", "見出しの行より多くの項目"),
    ),
    Case("too few fields", _too_few_fields, 0, finding=("input.invalid_value", 2, "address")),
    Case(
        "duplicated header",
        _roster_text(_header() + ",氏名\n" + _line() + ",x\n"),
        2,
        ("{roster}", "「氏名」の列が2つあります"),
    ),
    Case(
        "unknown header next to the required ones",
        _roster_text(_header() + ",備考\n" + _line() + ",メモ\n"),
        0,
        finding=None,
    ),
    # A spreadsheet's empty trailing columns: blank headers, named twice and more.
    Case(
        "blank trailing columns",
        _roster_text(_header() + ",,,\n" + _line() + ",,,\n"),
        0,
        finding=None,
    ),
    Case(
        "a column recon does not read, named twice",
        _roster_text(_header() + ",備考,備考\n" + _line() + ",メモ,メモ2\n"),
        0,
        finding=None,
    ),
    Case(
        "required column empty in every row",
        _empty_required_column,
        0,
        finding=("input.invalid_value", 2, "postal_code"),
    ),
    Case("1 MB name", _huge_name, 0, finding=("match.name", 0, "name")),
    Case(
        "R06.13.40",
        _roster_text(_header() + "\n" + _line(birth_date="R06.13.40") + "\n"),
        0,
        finding=("input.invalid_value", 1, "birth_date"),
    ),
    Case(
        "H31.02.30",
        _roster_text(_header() + "\n" + _line(birth_date="H31.02.30") + "\n"),
        0,
        finding=("input.invalid_value", 1, "birth_date"),
    ),
    Case(
        "0000-00-00",
        _roster_text(_header() + "\n" + _line(acquired_on="0000-00-00") + "\n"),
        0,
        finding=("input.invalid_value", 1, "acquired_on"),
    ),
    Case(
        "2024-02-30",
        _roster_text(_header() + "\n" + _line(lost_on="2024-02-30") + "\n"),
        0,
        finding=("input.invalid_value", 1, "lost_on"),
    ),
    Case(
        "sex 9",
        _roster_text(_header() + "\n" + _line(sex="9") + "\n"),
        0,
        finding=("input.invalid_value", 1, "sex"),
    ),
    Case("xlsx with the data on the second sheet", _xlsx_case(second_sheet=True), 0, finding=None),
    Case("xlsx with an empty form beside the data", _xlsx_case(form=True), 0, finding=None),
    Case(
        "xlsx with the roster on two sheets",
        _xlsx_case(split=True),
        2,
        ("roster.xlsx", "本社, 支社", "1枚のシートにまとめて"),
    ),
    Case(
        "xlsx with merged header cells",
        _xlsx_case(merged=True),
        2,
        ("roster.xlsx", "必須の列", "[input.missing_column]"),
    ),
    Case(
        "Parquet with the wrong types",
        _parquet_wrong_types,
        0,
        finding=("my_number.format", 0, "my_number"),
    ),
    Case("the same file as roster and filings", _same_file, 2, ("{roster}", "同じファイルが")),
]
