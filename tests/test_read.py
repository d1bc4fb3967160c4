"""Readers: every supported encoding and format gives the same outcome (SPEC §3)."""

from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from recon import pipeline
from recon.columns import FILINGS, ROSTER
from recon.errors import InputError
from recon.policy import load_policy
from recon.read import _line_breaks, read_table
from tests.conftest import AS_OF, filing, member, person, write_csv


def _rows():
    insured = member(
        **person("本人", "髙橋 太郎", "ﾀｶﾊｼ ﾀﾛｳ", "S55.3.1", sex="男"),
        address="東京都千代田区千代田一丁目2番3号",
    )
    spouse = member(
        branch="01",
        **person("妻", "山﨑 花子", "やまさき はなこ", "昭和57年5月5日", sex="女"),
        card_status="未取得",
    )
    child = member(branch="02", **person("長男", "髙橋 一", "タカハシ ハジメ", "5640107"))
    return [insured, spouse, child], [
        filing(insured, **person("self", "高橋 太郎", "タカハシ タロウ", "1980-03-01", sex="1")),
        filing(
            spouse,
            "123456789019",
            **person("spouse", "山崎 花子", "ヤマサキ ハナコ", "1982-05-05", sex="2"),
        ),
    ]


def _japanese_csv(path: Path, rows, columns, encoding: str, newline: str) -> Path:
    headers = [c.headers[0] for c in columns]
    lines = [",".join(headers)] + [",".join(r.get(c.name, "") for c in columns) for r in rows]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def _mixed_breaks_csv(path: Path, rows, columns) -> Path:
    """An old-Mac export (CR) appended to a Windows one (CRLF), as files get joined."""
    headers = [c.headers[0] for c in columns]
    lines = [",".join(headers)] + [",".join(r.get(c.name, "") for c in columns) for r in rows]
    text = "".join(line + ("\r" if i % 2 else "\r\n") for i, line in enumerate(lines))
    path.write_bytes(text.encode("utf-8"))
    return path


def _text_formula_csv(path: Path, rows, columns) -> Path:
    """A system exporting for Excel: every value a text formula (`="00"`), bare or quoted."""

    def cell(i: int, value: str) -> str:
        if not value:
            return ""
        return f'="{value}"' if i % 2 else '"=""' + value.replace('"', '""""') + '"""'

    headers = [c.headers[0] for c in columns]
    lines = [",".join(headers)]
    lines += [",".join(cell(i, r.get(c.name, "")) for i, c in enumerate(columns)) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def _xlsx(path: Path, rows, columns) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, [c.headers[0] for c in columns])
    for i, r in enumerate(rows, start=1):
        sheet.write_row(i, 0, [r.get(c.name, "") for c in columns])
    book.close()
    return path


def _parquet(path: Path, rows, columns) -> Path:
    pl.DataFrame(
        [{c.name: r.get(c.name) or None for c in columns} for r in rows],
        schema={c.name: pl.String for c in columns},
    ).write_parquet(path)
    return path


WRITERS = {
    "utf-8 english lf": lambda p, rows, cols: write_csv(p.with_suffix(".csv"), rows, cols),
    "utf-8 bom crlf": lambda p, r, c: _japanese_csv(
        p.with_suffix(".csv"), r, c, "utf-8-sig", "\r\n"
    ),
    # Saved with a BOM by a tool that added one of its own in front.
    "utf-8 two boms": lambda p, r, c: (
        _japanese_csv(p.with_suffix(".csv"), r, c, "utf-8-sig", "\r\n").write_bytes(
            b"\xef\xbb\xbf" + p.with_suffix(".csv").read_bytes()
        )
        and p.with_suffix(".csv")
    ),
    "excel text formulas": lambda p, r, c: _text_formula_csv(p.with_suffix(".csv"), r, c),
    "cp932 crlf": lambda p, r, c: _japanese_csv(p.with_suffix(".csv"), r, c, "cp932", "\r\n"),
    "cp932 lf": lambda p, r, c: _japanese_csv(p.with_suffix(".csv"), r, c, "cp932", "\n"),
    # Old Mac exports end lines with CR alone; joined files mix CR and CRLF.
    "utf-8 cr": lambda p, r, c: _japanese_csv(p.with_suffix(".csv"), r, c, "utf-8", "\r"),
    "cp932 cr": lambda p, r, c: _japanese_csv(p.with_suffix(".csv"), r, c, "cp932", "\r"),
    "mixed cr and crlf": lambda p, r, c: _mixed_breaks_csv(p.with_suffix(".csv"), r, c),
    "xlsx": lambda p, r, c: _xlsx(p.with_suffix(".xlsx"), r, c),
    "parquet": lambda p, r, c: _parquet(p.with_suffix(".parquet"), r, c),
}


def _outcome(tmp_path: Path, kind: str):
    roster_rows, filing_rows = _rows()
    folder = tmp_path / kind.replace(" ", "_")
    folder.mkdir(exist_ok=True)
    writer = WRITERS[kind]
    result = pipeline.analyse(
        writer(folder / "roster", roster_rows, ROSTER),
        writer(folder / "filings", filing_rows, FILINGS),
        load_policy(),
        AS_OF,
    )
    return result.members.drop("row"), result.findings.drop("detail")


def test_every_encoding_and_format_gives_identical_outputs(tmp_path):
    reference_members, reference_findings = _outcome(tmp_path, "utf-8 english lf")
    # The reference itself is right, so identical outputs mean identically right.
    assert reference_members["my_number_status"].to_list() == ["linked", "invalid", "missing"]
    assert sorted(reference_findings["check"].to_list()) == [
        "filing.missing",
        "match.name_variant",
        "match.name_variant",
        "my_number.check_digit",
    ]
    for kind in list(WRITERS)[1:]:
        members, findings = _outcome(tmp_path, kind)
        assert members.equals(reference_members), kind
        assert findings.equals(reference_findings), kind


def test_cp932_only_characters_survive(tmp_path):
    roster_rows, _ = _rows()
    path = _japanese_csv(tmp_path / "r.csv", roster_rows, ROSTER, "cp932", "\r\n")
    names = read_table(path, "roster")[0]["name"].to_list()
    assert names[:2] == [
        "髙橋 太郎",
        "山﨑 花子",
    ]  # 髙 and 﨑 exist in CP932, not in strict Shift_JIS


def test_a_text_formula_is_read_as_the_text_excel_shows_and_no_other_formula_is(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        "社員番号,続柄,氏名,氏名カナ,生年月日,性別,住所,個人番号,届出日,枝番\n"
        '="00040578",本人,"=""山田""""彩""",ヤマダ,="1972-05-20",2,=1+1,1,2016-01-04,="00"\n'
        '="",本人,山田,ヤマダ,="0"&A1,="2"x,"=""東京,都""",1,2016-01-04,""\n',
        encoding="utf-8",
    )
    frame = read_table(path, "filings")[0]
    assert frame["employee_id"].to_list() == ["00040578", ""]  # `=""` reads as `""` does
    assert frame["branch"].to_list() == ["00", ""]
    assert frame["name"].to_list() == ['山田"彩', "山田"]
    # Formulas Excel would compute, or text around one, are not text formulas.
    assert frame["birth_date"].to_list() == ["1972-05-20", '="0"&A1']
    assert frame["sex"].to_list() == ["2", '="2"x']
    assert frame["address"].to_list() == ["=1+1", "東京,都"]


def test_invisible_characters_in_a_header_do_not_hide_it(tmp_path):
    path = tmp_path / "f.csv"
    headers = (
        "\ufeff社員番号,続柄,氏\u200b名,\u2066氏名カナ\u2069,生年月日,性別,個人番号\u200e,届出日"
    )
    path.write_text(
        headers + "\nE1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01\n",
        encoding="utf-8-sig",  # a BOM, and then the header's own
    )
    frame, _ = read_table(path, "filings")
    assert frame["employee_id"].to_list() == ["E1"]
    assert frame["name"].to_list() == ["山田 太郎"]
    assert frame["name_kana"].to_list() == ["ヤマダ タロウ"]
    assert frame["my_number"].to_list() == ["123456789018"]


def _filings_error(tmp_path: Path, header: str, more: str = "") -> str:
    """The message for a filings file with `header` over one ordinary row (and `more`)."""
    path = tmp_path / "f.csv"
    row = "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01"
    path.write_text(f"{header}\n{row}{more}\n", encoding="utf-8")
    return _error(path, "filings")


def test_two_headers_that_look_alike_are_told_apart_in_the_message(tmp_path):
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日,\u200b社員番号"
    message = _filings_error(tmp_path, header, ",E1")
    assert "「社員番号」" in message and "「<U+200B>社員番号」" in message


def test_a_header_with_a_direction_override_is_not_taken_and_is_shown_as_it_is(tmp_path):
    # <U+202E>氏名カナ shows as ナカ名氏: not the column, and the message writes the mark
    # out instead of letting it reverse the rest of the line.
    header = "社員番号,続柄,氏名,\u202e氏名カナ,生年月日,性別,個人番号,届出日"
    message = _filings_error(tmp_path, header)
    assert "input.missing_column" in message and "<U+202E>氏名カナ" in message
    assert "\u202e" not in message


def test_unknown_headers_are_ignored_and_optional_columns_may_be_absent(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日,備考\n"
        "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01,memo\n",
        encoding="utf-8",
    )
    frame, _ = read_table(path, "filings")
    assert frame["address"].to_list() == [None]
    assert "備考" not in frame.columns


def _error(path: Path, source="roster") -> str:
    with pytest.raises(InputError) as caught:
        read_table(path, source)
    return str(caught.value)


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("社員番号,続柄,氏名\nE1,本人,山田\n", encoding="utf-8")
    message = _error(path, "filings")
    assert (
        str(path) in message
        and "my_number (個人番号)" in message
        and "input.missing_column" in message
    )


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("氏名\n山田\n".encode("cp932") + b"\x81\x20\xff\xfe\n")
    assert "3行目" in _error(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "ファイルが空です"),
        (b"\xff\xfea\x00b\x00", "UTF-16"),
        (b"a,b\x00c\n", "NUL"),
    ],
)
def test_unreadable_files(tmp_path, content, expected):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert expected in _error(path)


def test_ragged_row_and_duplicate_header(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    assert "データの2行目" in _error(long)
    dup = tmp_path / "dup.csv"
    dup.write_text("氏名,氏名\nx,y\n", encoding="utf-8")
    assert "「氏名」の列が2つあります" in _error(dup)


def test_no_such_file(tmp_path):
    assert "ファイルがありません" in _error(tmp_path / "absent.csv")


def test_blank_rows_are_set_aside_and_counted(tmp_path):
    path = tmp_path / "f.csv"
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日"
    line = "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01"
    path.write_text(f"{header}\n{line}\n\n,,,,,,,\n{line}\n ,\n", encoding="utf-8")
    frame, blank = read_table(path, "filings")
    assert blank == 3
    assert frame["row"].to_list() == [1, 4]  # numbered as in the file


def test_a_row_is_blank_only_when_every_cell_is_empty_or_spaces(tmp_path):
    path = tmp_path / "f.csv"
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日"
    rows = [
        ",,,,,,,2024-05-01",  # only the last cell has a value: kept
        " ,\u3000,\t,,,,,",  # spaces of every kind: blank
        ",,,,,1,,",  # one value in the middle: kept
        "E1,,,,,,,",
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    frame, blank = read_table(path, "filings")
    assert blank == 1
    assert frame["row"].to_list() == [1, 3, 4]


def test_utf8_file_with_a_bad_byte_late_is_refused_not_read_as_shift_jis(tmp_path):
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日\n"
    line = "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01\n"
    body = (header + line * 2000).encode("utf-8")  # well past the first 64 KiB
    path = tmp_path / "f.csv"
    path.write_bytes(
        body
        + "E2,本人,山田 花子,ヤマダ ハナコ,1980-04-01,2,,2024-05-01\n".encode()[:-30]
        + b"\xff\n"
    )
    message = _error(path)
    assert "2002行目" in message and "UTF-8 でないバイト" in message


_BOM = b"\xef\xbb\xbf"


def test_a_bad_byte_in_a_utf8_file_with_a_bom_is_counted_from_the_file_s_first_byte(tmp_path):
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日\n".encode()
    path = tmp_path / "f.csv"
    line = "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01\n".encode()
    data = _BOM + header + line * 2000 + b"E2,\xff\n"  # past the first 64 KiB
    path.write_bytes(data)
    message = _error(path, "filings")
    offset = data.index(b"\xff")
    assert "2002行目" in message and f"先頭から {offset} バイト目" in message


def test_a_bom_before_an_ascii_head_and_shift_jis_further_on_is_read_as_shift_jis(tmp_path):
    header = "employee_id,relation,name,name_kana,birth_date,sex,my_number,filed_on\n"
    ascii_line = "E1,self,Yamada,YAMADA,1980-04-01,1,123456789018,2024-05-01\n"
    late = "E2,本人,髙橋 﨑子,タカハシ サキコ,1980-04-01,2,,2024-05-01\n".encode("cp932")
    path = tmp_path / "f.csv"
    path.write_bytes(_BOM + (header + ascii_line * 2000).encode() + late)  # past 64 KiB
    frame, _ = read_table(path, "filings")
    assert frame.columns[:2] == ["row", "employee_id"]  # no BOM in the first header
    assert frame["name"][-1] == "髙橋 﨑子"
    # A byte Shift_JIS cannot read is counted from the file's first byte, BOM included.
    broken = _BOM + (header + ascii_line * 2000).encode() + b"E3,\x81\x20\n"
    path.write_bytes(broken)
    message = _error(path, "filings")
    offset = broken.index(b"\x81\x20")
    assert f"先頭から {offset} バイト目" in message


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_line_and_offset_in_a_message_are_the_file_s_with_lone_crs(tmp_path, newline):
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日"
    line = "E1,本人,山田 太郎,ヤマダ タロウ,1980-04-01,1,123456789018,2024-05-01"
    # Lines end in `newline`, one of them in a lone CR: polars reads them rewritten.
    lines = [header, *[line] * 2000]
    body = (newline.join(lines[:100]) + "\r" + newline.join(lines[100:]) + newline).encode()
    path = tmp_path / "f.csv"
    data = body + b"E2,\xff\n"  # line 2002, past the first 64 KiB
    path.write_bytes(data)
    message = _error(path, "filings")
    assert "2002行目" in message and f"先頭から {data.index(b'E2,') + 3} バイト目" in message
    path.write_bytes(body + b"E2,\x00\n")
    assert "2002行目に NUL" in _error(path, "filings")


@pytest.mark.parametrize("blank", [b"", b" \r\n\t\r\n", b"\n" * 3])
def test_a_file_of_nothing_but_spaces_and_line_breaks_is_empty(tmp_path, blank):
    path = tmp_path / "roster.csv"
    path.write_bytes(blank)
    assert "ファイルが空です" in _error(path)


# A name, an address and a valid My Number: none may reach a message.
_NAME, _ADDRESS, _NUMBER = "佐藤 花子", "大阪府大阪市北区梅田9-8-7", "621498320257"
_QUOTED_NAME = '"佐藤" 花子'
_STRAY_QUOTE_NAME = '佐藤"花子'
_PAIRED_QUOTES_NAME = '佐藤 "はな" 子'


def _filings_header() -> str:
    return ",".join(c.headers[0] for c in FILINGS)


def _filings_line(name: str = _NAME, quote: str = "") -> str:
    values = {
        "employee_id": "E1",
        "relation": "本人",
        "name": quote + name,
        "name_kana": "サトウ ハナコ",
        "birth_date": "1980-04-01",
        "sex": "女",
        "address": _ADDRESS,
        "my_number": _NUMBER,
        "filed_on": "2024-05-01",
        "branch": "",
    }
    return ",".join(values[c.name] for c in FILINGS)


@pytest.mark.parametrize(
    "text, said",
    [
        # A quote never closed: the parser's own message quoted the rest of the file.
        (
            f"{_filings_header()}\n{_filings_line(quote=chr(34))}\n{_filings_line()}\n",
            ["2行目の3列目（氏名）", "引用符"],
        ),
        # Text after a closing quote.
        (
            f"{_filings_header()}\n{_filings_line()}\n{_filings_line(name=_QUOTED_NAME)}\n",
            ["3行目の3列目（氏名）", "引用符"],
        ),
        # A quote inside a value that is not quoted (the parser said no row at all).
        (
            f"{_filings_header()}\n{_filings_line()}\n{_filings_line(name=_STRAY_QUOTE_NAME)}\n",
            ["3行目の3列目（氏名）", "引用符"],
        ),
        # Quotes in pairs inside a value are read as they are: the broken one is named.
        (
            f"{_filings_header()}\n{_filings_line(name=_PAIRED_QUOTES_NAME)}\n"
            f"{_filings_line()}\n{_filings_line(quote=chr(34))}\n",
            ["4行目の3列目（氏名）", "引用符"],
        ),
        # No header row: the first member's row stands where the headers are.
        (f"{_filings_line()}\n{_filings_line()}\n", ["1行目（見出し）", "見出しの行がありません"]),
    ],
    ids=[
        "unclosed quote",
        "text after quote",
        "quote inside a value",
        "paired quotes before an unclosed one",
        "no header row",
    ],
)
def test_a_broken_file_is_named_by_line_and_column_without_quoting_its_row(tmp_path, text, said):
    path = tmp_path / "届出.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_table(path, "filings")
    message = str(raised.value)
    assert str(path) in message
    for part in said:
        assert part in message, message
    for secret in (_NAME, "佐藤", _ADDRESS, "梅田", _NUMBER, _NUMBER[-4:]):
        assert secret not in message, message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b",", b"\r", b"\n", b"\r\n"]), max_size=30))
def test_line_breaks_are_rewritten_exactly_when_a_cr_stands_alone(parts):
    data = b"".join(parts)
    lone = data.count(b"\r") != data.count(b"\r\n")  # the definition, counted
    fixed = _line_breaks(data)
    assert (fixed is not data) == lone
    assert b"\r" not in fixed if lone else fixed == data
    assert fixed.count(b"\n") == data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


@pytest.mark.parametrize("line_no", [2, 50])
def test_utf8_file_with_a_bad_byte_early_is_refused_at_its_line_not_read_as_shift_jis(
    tmp_path, line_no
):
    """A byte lost in the first 64 KiB: refused at the damaged line, as one further on
    is, never read as CP932 (which named a line far from it, or read the file as
    mojibake when the bytes happened to be valid CP932)."""
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日\n"
    line = "E1,本人,森 サユリ,モリ サユリ,1980-04-01,1,123456789018,2024-05-01\n"
    lines = [header.encode(), *[line.encode()] * 60]
    cut = "リ".encode()[:2]  # the last character lost its last byte
    lines[line_no - 1] = "E2,本人,森 サユリ,モリ サユ".encode() + cut + b",1980-04-01,2,,x\n"
    path = tmp_path / "f.csv"
    path.write_bytes(b"".join(lines))
    message = _error(path, "filings")
    assert f"{line_no}行目" in message and "UTF-8 でないバイト" in message


def test_a_shift_jis_file_is_still_read_as_shift_jis_whatever_its_names(tmp_path):
    # Half-width kana pairs can form a valid UTF-8 character by chance (ﾂｧ is C2 A7):
    # one such pair among Shift_JIS text does not make the file UTF-8.
    header = "社員番号,続柄,氏名,氏名カナ,生年月日,性別,個人番号,届出日\n"
    rows = ["E1,本人,髙橋 﨑子,ﾂｧｶﾞﾜ ｻｷｺ,1980-04-01,2,,2024-05-01\n"] * 40
    path = tmp_path / "f.csv"
    path.write_bytes((header + "".join(rows)).encode("cp932"))
    frame, _ = read_table(path, "filings")
    assert set(frame["name"]) == {"髙橋 﨑子"} and set(frame["name_kana"]) == {"ﾂｧｶﾞﾜ ｻｷｺ"}


def test_a_parquet_column_named_twice_or_of_no_readable_type_is_named(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["社員番号", "続柄", "氏名", "氏名カナ", "生年月日", "性別", "個人番号", "届出日"]
    path = tmp_path / "filings.parquet"
    columns = [pa.array(["1"]) for _ in names]
    pq.write_table(pa.table([*columns, pa.array(["x"])], names=[*names, "氏名"]), path)
    assert "1行目（見出し）に「氏名」の列が2つあります" in _error(path, "filings")
    for odd in (pa.array([dt.timedelta(days=1)]), pa.array([[1, 2]])):
        pq.write_table(pa.table([*columns, odd], names=[*names, "備考"]), path)
        message = _error(path, "filings")
        assert "列「備考」は" in message and "文字や数や日付として読めません" in message


def test_parquet_as_pandas_writes_it_reads_as_the_csv_of_the_same_values(tmp_path):
    """pandas writes dates as timestamps at midnight and whole numbers with a gap as
    floats: every date was invalid ('1980-03-01 00:00:00.000000') and a 枝番 0
    read as '0.0'. A time of day or a fraction is kept, for validation to report."""
    frame = pl.DataFrame(
        {
            "社員番号": ["E1", "E2", "E3"],
            "続柄": ["本人"] * 3,
            "氏名": ["山田 太郎", "山田 花子", "佐藤 一郎"],
            "氏名カナ": ["ヤマダ タロウ", "ヤマダ ハナコ", "サトウ イチロウ"],
            "個人番号": ["123456789018"] * 3,
            "生年月日": ["1980-03-01", "1982-07-15", "1975-05-05"],
            "届出日": ["2024-05-01 00:00", "2024-05-02 00:00", "2024-05-03 09:30"],
            "枝番": [0.0, None, 1.5],
            "性別": [1.0, 2.0, None],
        }
    ).with_columns(
        # A 32-bit float holds a twelve-digit number only rounded: kept, never "repaired".
        pl.Series("個人番号", [123456789018.0] * 3, pl.Float32),
        pl.col("生年月日").str.to_datetime("%Y-%m-%d"),
        pl.col("届出日").str.to_datetime("%Y-%m-%d %H:%M"),
    )
    path = tmp_path / "filings.parquet"
    frame.write_parquet(path)
    read, _ = read_table(path, "filings")
    assert read["birth_date"].to_list() == ["1980-03-01", "1982-07-15", "1975-05-05"]
    assert read["filed_on"].to_list() == [
        "2024-05-01 00:00:00.000000",
        "2024-05-02 00:00:00.000000",
        "2024-05-03 09:30:00.000000",
    ]  # one time of day in the column: kept for validation to report
    assert read["branch"].to_list() == ["0.0", None, "1.5"]  # one fraction: kept
    assert read["sex"].to_list() == ["1", "2", None]
    assert all(not v.isdigit() for v in read["my_number"].to_list())  # float text, not 1234567…
