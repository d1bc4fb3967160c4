"""The mistakes people make with the two input files get an answer that helps (issue 12 §2).

The two files swapped, an old Excel `.xls`, a CSV renamed `.xls`, a filings file
with a header and no rows: each is read as what it is, or refused with a message
that names the files and says what to do, in the operator's language.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlwt
from typer.testing import CliRunner

from recon import cli
from recon.columns import FILINGS, ROSTER, Column
from recon.errors import InputError
from recon.read import read_table
from tests.conftest import filing, member, run_args, write_csv

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _invoke(args: list[str]):
    done = CliRunner().invoke(cli.app, args)
    assert isinstance(done.exception, SystemExit | None), done.exception  # never a traceback
    return done


def _flat(text: str) -> str:
    """The output as one line, whatever the terminal wrapped (Japanese has no spaces to keep)."""
    return "".join(text.split())


def _rows() -> tuple[list[dict], list[dict]]:
    insured = member(name="髙橋 太郎", address="東京都千代田区千代田一丁目2番3号")
    spouse = member(branch="01", relation="妻", name="山﨑 花子", sex="女", card_status="")
    return [insured, spouse], [filing(insured), filing(spouse, "123456789019")]


def _csv_bytes(rows: list[dict], columns: tuple[Column, ...], encoding: str) -> bytes:
    lines = [",".join(c.headers[0] for c in columns)]
    lines += [",".join(r.get(c.name, "") for c in columns) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _xls(path: Path, rows: list[dict], columns: tuple[Column, ...], dated: bool = False) -> Path:
    """A real BIFF8 workbook, as Excel 97–2003 saves it; dates as date cells when `dated`."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("台帳")
    date_style = xlwt.easyxf(num_format_str="yyyy/mm/dd")
    for j, column in enumerate(columns):
        sheet.write(0, j, column.headers[0])
        for i, row in enumerate(rows, start=1):
            value = row.get(column.name, "")
            if dated and column.kind == "date" and value:
                sheet.write(i, j, dt.date.fromisoformat(value), date_style)
            else:
                sheet.write(i, j, value)
    book.save(str(path))
    return path


# --- the two files swapped -------------------------------------------------------------


def test_the_sample_s_two_files_swapped_are_named_both_in_japanese(tmp_path, monkeypatch):
    monkeypatch.delenv("RECON_LANG", raising=False)
    roster, filings = SAMPLE / "roster.csv", SAMPLE / "filings.csv"
    out = tmp_path / "out"
    done = _invoke(run_args(filings, roster, out))
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert (
        f"{filings}は加入者台帳（--roster）として指定されていますが、見出し（my_number,filed_on）"
        f"から見て事業主届出のファイルです。--filingsに指定した{roster}と、おそらく逆です。"
        f"--roster{roster}--filings{filings}として実行し直してください。"
    ) in said, said
    assert "missing_column" not in said  # not a missing column: the wrong file
    assert not out.exists()


def test_the_two_files_swapped_in_english(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "en")
    roster, filings = SAMPLE / "roster.csv", SAMPLE / "filings.csv"
    done = _invoke(["check", "--roster", str(filings), "--filings", str(roster)])
    said = " ".join(done.output.split())
    assert done.exit_code == 2, done.output
    assert (
        f"{filings} was given as the roster (--roster), but its header (my_number, filed_on) is "
        f"that of a filings file: it was probably swapped with {roster}, given as --filings. "
        f"Run again with --roster {roster} --filings {filings}."
    ) in said, said


def test_a_roster_given_as_the_filings_is_named_by_its_japanese_headers(tmp_path):
    roster_rows, filing_rows = _rows()
    roster = tmp_path / "台帳.csv"
    roster.write_bytes(_csv_bytes(roster_rows, ROSTER, "cp932"))
    filings = write_csv(tmp_path / "届出.csv", filing_rows, FILINGS)
    with pytest.raises(InputError) as raised:
        read_table(roster, "filings", counterpart=filings)
    assert str(raised.value) == (
        f"{roster} は事業主届出（--filings）として指定されていますが、見出し（保険者番号, 記号, "
        f"番号, 郵便番号, 資格取得日）から見て加入者台帳のファイルです。--roster に指定した "
        f"{filings} と、おそらく逆です。--roster {roster} --filings {filings} として"
        f"実行し直してください。"
    )
    # Read on its own, the message cannot name the other file and does not pretend to.
    with pytest.raises(InputError) as alone:
        read_table(roster, "filings")
    assert "--roster と --filings がおそらく逆です" in str(alone.value)


def test_a_file_lacking_one_of_the_other_s_columns_is_a_missing_column_not_a_swap(tmp_path):
    """Only a header with every column only the other file has is that file."""
    _, filing_rows = _rows()
    without_filed_on = tuple(c for c in FILINGS if c.name != "filed_on")
    path = tmp_path / "届出.csv"
    path.write_bytes(_csv_bytes(filing_rows, without_filed_on, "utf-8"))
    with pytest.raises(InputError) as raised:
        read_table(path, "roster", counterpart=tmp_path / "x.csv")
    message = str(raised.value)
    assert "[input.missing_column]" in message and "insurer_number (保険者番号)" in message
    assert "逆" not in message


def test_a_workbook_of_the_other_input_is_said_to_be_swapped_not_missing_a_sheet(tmp_path):
    """A cover sheet first, then the filings: recon finds the sheet and names the mistake."""
    _, filing_rows = _rows()
    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("表紙").write(0, 0, "届出一覧")
    sheet = book.add_sheet("届出")
    for j, column in enumerate(FILINGS):
        sheet.write(0, j, column.headers[0])
        sheet.write(1, j, filing_rows[0].get(column.name, ""))
    path = tmp_path / "届出.xls"
    book.save(str(path))
    with pytest.raises(InputError) as raised:
        read_table(path, "roster", counterpart=tmp_path / "台帳.xls")
    assert "見出し（個人番号, 届出日）から見て事業主届出のファイルです" in str(raised.value)


# --- old Excel, and files named for what they are not ----------------------------------


def _reference(tmp_path: Path, rows, columns, source) -> pl.DataFrame:
    path = tmp_path / f"reference-{source}.csv"
    path.write_bytes(_csv_bytes(rows, columns, "utf-8"))
    return read_table(path, source)[0]


@pytest.mark.parametrize(
    "name, make",
    [
        ("a real .xls", lambda p, rows, cols: _xls(p.with_suffix(".xls"), rows, cols)),
        ("an .xls saved as .xlsx", lambda p, rows, cols: _xls(p.with_suffix(".xlsx"), rows, cols)),
        ("an .xls saved as .csv", lambda p, rows, cols: _xls(p.with_suffix(".csv"), rows, cols)),
        ("an .xls with date cells", lambda p, r, c: _xls(p.with_suffix(".xls"), r, c, dated=True)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
@pytest.mark.parametrize("source", ["roster", "filings"])
def test_old_excel_is_read_as_the_csv_would_be(tmp_path, name, make, source):
    roster_rows, filing_rows = _rows()
    rows, columns = (roster_rows, ROSTER) if source == "roster" else (filing_rows, FILINGS)
    path = make(tmp_path / source, rows, columns)
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # OLE2: a real BIFF workbook
    frame, blank = read_table(path, source)
    assert blank == 0
    assert frame.equals(_reference(tmp_path, rows, columns, source)), frame
    assert "髙橋 太郎" in frame["name"].to_list()  # a CP932-only kanji kept


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("suffix", [".xls", ".xlsx"])
def test_a_csv_renamed_as_excel_is_read_as_the_csv_it_is(tmp_path, encoding, suffix):
    roster_rows, _ = _rows()
    path = tmp_path / f"台帳{suffix}"
    path.write_bytes(_csv_bytes(roster_rows, ROSTER, encoding))
    frame, _ = read_table(path, "roster")
    assert frame.equals(_reference(tmp_path, roster_rows, ROSTER, "roster")), frame


def test_a_run_on_xls_files_gives_the_outputs_of_the_csv_files(tmp_path):
    roster_rows, filing_rows = _rows()
    outputs = {}
    for kind in ("csv", "xls"):
        folder = tmp_path / kind
        folder.mkdir()
        if kind == "csv":
            roster = write_csv(folder / "roster.csv", roster_rows, ROSTER)
            filings = write_csv(folder / "filings.csv", filing_rows, FILINGS)
        else:
            roster = _xls(folder / "roster.xls", roster_rows, ROSTER, dated=True)
            filings = _xls(folder / "filings.xls", filing_rows, FILINGS, dated=True)
        done = _invoke(run_args(roster, filings, folder / "out"))
        assert done.exit_code == 0, done.output
        outputs[kind] = [(folder / "out" / n).read_bytes() for n in ("members.csv", "findings.csv")]
    assert outputs["xls"] == outputs["csv"]
    assert b"linked" in outputs["xls"][0]


def test_a_damaged_xls_says_so_and_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "台帳.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(InputError) as raised:
        read_table(path, "roster")
    message = str(raised.value)
    assert message.startswith(f"{path}: 古い形式の Excel（.xls）またはパスワード付きの Excel")
    assert "パスワードがかかっていれば外し、.xlsx か CSV で保存し直してください" in message
    monkeypatch.setenv("RECON_LANG", "en")
    with pytest.raises(InputError) as english:
        read_table(path, "roster")
    assert "old-format Excel (.xls) or password-protected Excel file" in str(english.value)


# --- a filings file with a header and no rows ------------------------------------------


@pytest.mark.parametrize("blank_lines", [0, 2], ids=["header only", "header and blank lines"])
def test_a_filings_file_without_filings_is_a_normal_run_that_says_so(tmp_path, blank_lines):
    roster_rows, _ = _rows()
    roster = write_csv(tmp_path / "roster.csv", roster_rows, ROSTER)
    filings = tmp_path / "filings.csv"
    header = ",".join(c.headers[0] for c in FILINGS)
    filings.write_text(header + "\n" + ",,,,,,,,,\n" * blank_lines, encoding="utf-8")
    out = tmp_path / "out"
    done = _invoke(run_args(roster, filings, out))
    assert done.exit_code == 0, done.output  # SPEC §7: the run completed
    assert (
        f"recon: 届出なし: 事業主届出のファイル {filings} には見出しの行しかなく、届出が1件も"
        f"ありません。どの加入者にも届出が突き合わされていません。"
    ) in done.output, done.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["filings"]["rows"] == 0
    members = pl.read_csv(out / "members.csv", infer_schema=False)
    assert members["my_number_status"].to_list() == ["missing", "missing"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert (
        '<p id="no-filings" class="note">事業主届出のファイルには見出しの行しかなく、届出が'
        "1件もありません。どの加入者にも届出が突き合わされていません。</p>"
    ) in page


def test_a_filings_file_without_filings_is_said_in_english(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "en")
    roster_rows, _ = _rows()
    roster = write_csv(tmp_path / "roster.csv", roster_rows, ROSTER)
    filings = tmp_path / "filings.csv"
    filings.write_text(",".join(c.name for c in FILINGS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    done = _invoke([*run_args(roster, filings, out), "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert (
        f"recon: No filings: the filings file {filings} has a header row but not a single "
        f"filing, so no member has a filing in this run."
    ) in done.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "The filings file has a header row but not a single filing" in page


def test_a_run_with_filings_says_nothing_of_the_kind(tmp_path):
    roster_rows, filing_rows = _rows()
    roster = write_csv(tmp_path / "roster.csv", roster_rows, ROSTER)
    filings = write_csv(tmp_path / "filings.csv", filing_rows[:1], FILINGS)
    out = tmp_path / "out"
    done = _invoke(run_args(roster, filings, out))
    assert done.exit_code == 0, done.output
    assert "届出なし" not in done.output
    assert 'id="no-filings"' not in (out / "report.html").read_text(encoding="utf-8")


def test_a_filings_workbook_on_two_sheets_given_as_the_roster_is_named_as_swapped(tmp_path):
    """Two sheets of the other input: the swap is what is wrong, not the sheets."""
    import xlsxwriter

    book_path = tmp_path / "届出.xlsx"
    book = xlsxwriter.Workbook(book_path)
    header = [c.headers[0] for c in FILINGS]
    for name, employee in (("本社", "E1"), ("支社", "E2")):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, header)
        sheet.write_row(1, 0, [filing(member(employee=employee))[c.name] for c in FILINGS])
    book.close()
    filings = write_csv(tmp_path / "filings.csv", [filing(member())], FILINGS)
    with pytest.raises(InputError) as raised:
        read_table(book_path, "roster", counterpart=filings)
    said = str(raised.value)
    assert "おそらく逆です" in said and "複数あります" not in said
