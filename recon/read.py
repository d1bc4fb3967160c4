"""Step 1, read: a roster or filings file -> a frame of text with canonical names.

Every value is read as text (SPEC §3): parsing happens later, so that a bad
value becomes an `input.invalid_value` finding instead of a crash. What cannot
be read at all (unknown encoding, broken CSV, missing required column) is an
`InputError` naming the file, the row and the column: exit 2.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import os
import re
import stat
from pathlib import Path

import polars as pl

from recon import cp932
from recon.columns import (
    JA_HEADER,
    OTHER,
    SCHEMAS,
    Source,
    alias_map,
    header_key,
    only_in,
    visible,
)
from recon.errors import InputError
from recon.masking import scrub
from recon.texts import current, os_reason, text

ROW = "row"  # 1-based data row in the file, as the operator counts it (header excluded)


def read_table(
    path: Path, source: Source, data: bytes | None = None, counterpart: Path | None = None
) -> tuple[pl.DataFrame, int]:
    """(all columns of one input as String with canonical names and `row`, blank rows).

    `data`, when given, is the file's content held in memory (`load`'s bytes,
    or a file at a git revision, never written to disk); `path` then only
    names it. Without it the file is read with `load`. `counterpart` is the
    other input's name: a file that turns out to be the other input names
    both in its message.

    Rows are numbered as they stand in the file; rows without a single value
    (blank lines, the `,,,,` tails of spreadsheet exports) are then set aside
    and counted, so that conservation accounts for them.
    """
    content = load(path, source) if data is None else data
    frame = _canonical_columns(_read_raw(path, source, content), path, source, counterpart)
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    blank = _blank_rows(frame)
    kept = frame.filter(~pl.col(ROW).is_in(blank.implode())) if blank.len() else frame
    if source == "roster" and kept.height == 0:
        # A mailing decided on an empty roster is always a mistake (a filings file
        # with no rows is possible: nobody has filed yet).
        raise InputError(text("read.roster_no_members", path=path))
    return kept, frame.height - kept.height


def _blank_rows(frame: pl.DataFrame) -> pl.Series:
    """Numbers of the rows whose every cell is empty or spaces.

    Column by column, only over the rows still undecided: the first column
    settles nearly every row, so this costs about one column, not all of them.
    """
    undecided = frame.get_column(ROW)
    positions = pl.Series(range(frame.height), dtype=pl.UInt32)
    for column in frame.columns:
        if column == ROW or positions.is_empty():
            continue
        cells = frame.get_column(column).gather(positions)
        empty = cells.str.strip_chars().str.len_bytes().fill_null(0) == 0
        positions = positions.filter(empty)
    return undecided.gather(positions)


def load(path: Path, source: Source) -> bytes:
    """The whole file, read once for everything: parsed (`read_table(..., data)`) and
    hashed for summary.json from the same bytes, so the hash is of exactly what was
    read even if the file changes meanwhile, and the file is not read a second time
    (reading it again a megabyte at a time waited for the GIL at every block)."""
    require_file(path, f"--{source}", *TABLE_NAMES[source])
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(text("read.cannot_open", path=path, reason=os_reason(exc))) from None


# What each input is, as messages name it: (Japanese, English).
TABLE_NAMES: dict[Source, tuple[str, str]] = {
    source: (text(f"read.table.{source}", "ja"), text(f"read.table.{source}", "en"))
    for source in ("roster", "filings")
}
_TABLE_SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet")


def require_file(path: Path, option: str, what_ja: str, what_en: str) -> None:
    """Refuse, before opening it, a `path` that is not a regular file, saying what it is.

    A folder or a typo is the usual mistake; a pipe (`<(…)`, a FIFO) would be
    read once and then found empty when read again, and a device such as
    `/dev/zero` never ends. `what_ja` / `what_en` name the file the option wants.
    """
    what = what_ja if current() == "ja" else what_en
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        link = ""
        if path.is_symlink():
            link = text("read.no_file_link", target=os.readlink(path))
        raise InputError(text("read.no_file", path=path, link=link, option=option)) from None
    except OSError as exc:
        raise InputError(text("read.cannot_open", path=path, reason=os_reason(exc))) from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        hint = _folder_hint(path, option)
        raise InputError(text("read.folder", path=path, option=option, what=what, hint=hint))
    if stat.S_ISFIFO(mode):
        raise InputError(text("read.fifo", path=path, option=option, what=what))
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "device"
    elif stat.S_ISSOCK(mode):
        kind = "socket"
    else:
        kind = "special"
    raise InputError(
        text("read.special", path=path, kind=text(f"read.kind.{kind}"), option=option, what=what)
    )


def _folder_hint(folder: Path, option: str) -> str:
    """The files in `folder` that could be meant, and the one named like the option as example."""
    inside = _files_inside(folder)
    if not inside:
        return ""
    names = ", ".join(p.name for p in inside)
    # The example is a file named like the option (roster.csv for --roster), if any.
    named = [p for p in inside if option.lstrip("-") in p.name.lower()]
    if not named:
        return text("read.folder_hint.inside", names=names)
    return text("read.folder_hint.example", names=names, option=option, example=named[0])


def _files_inside(folder: Path) -> list[Path]:
    """Up to five files in `folder` that could be the input, for the message."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / n for n in names if n.lower().endswith(_TABLE_SUFFIXES)][:5]


# What a file is, told by its first bytes, never by its name: a CSV saved as
# `.xls` (a common "fix" for Excel opening it with the wrong encoding) is text.
_ZIP = b"PK\x03\x04"  # .xlsx (an Office Open XML package)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (BIFF), and password-protected .xlsx
_PARQUET = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"  # Excel's "CSV UTF-8" starts with it
_LONE_CR = re.compile(rb"\r(?!\n)")  # a line break of its own, not the CR of a CRLF
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _read_raw(path: Path, source: Source, data: bytes) -> pl.DataFrame:
    head = data[:8]
    try:
        if head.startswith(_ZIP):
            return _read_excel(path, source, data)
        if head.startswith(_OLE2):
            try:
                return _read_excel(path, source, data)
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - said as what an OLE2 file usually is
                reason = _reason(exc)
                raise InputError(text("read.xls_unreadable", path=path, reason=reason)) from None
        if head.startswith(_PARQUET):
            return _read_parquet(path, data)
        return _read_csv(path, data)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(text("read.cannot_open", path=path, reason=os_reason(exc))) from None
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one clear message
        raise InputError(text("read.unreadable", path=path, reason=_reason(exc))) from None


def _reason(exc: Exception) -> str:
    """What a reader library said, without the values it quotes.

    polars and calamine quote the cell (for a broken quote, the rest of the
    record: name, birth date, address) between backticks or quotes; SPEC §9
    allows at most one offending value in a message, masked, so none is kept.
    """
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return scrub(_QUOTED.sub("…", first))


_QUOTED = re.compile(r"`[^`]*`?|\"[^\"]*\"?|'[^']*'?")


def _refuse_binary(data: bytes, path: Path) -> None:
    """UTF-16 and NUL bytes: a CSV in neither UTF-8 nor Shift_JIS, said as such."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(text("read.utf16", path=path))
    if b"\x00" in data:
        raise InputError(text("read.nul", path=path, line=_line_at(data, data.index(b"\x00"))))


def _line_breaks(data: bytes) -> bytes:
    """Every line break as LF, when the file has any CR alone (old Mac, or files joined).

    A CR alone is a line break to Excel, to Python's csv module and to every
    editor: a CR-only file read as one line would look like a header naming
    the same column over and over. CRLF and LF files (nearly all) pass as they
    are, after one regex search (a third of the time of counting CRs and CRLFs).
    """
    if _LONE_CR.search(data) is None:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _line_at(data: bytes, offset: int) -> int:
    """The 1-based line of the file holding byte `offset`, a lone CR ending a line
    as CRLF and LF do (on error paths only: it scans the file up to there)."""
    return len(_LINE_BREAK.findall(data, 0, offset)) + 1


def _from_cp932(data: bytes, path: Path, start: int = 0) -> bytes:
    """`data` from byte `start` on (past a BOM), read as CP932 and written as UTF-8.

    Through iconv where it gives Python's answer (`recon.cp932`: without the GIL,
    beside the other file's work), else by Python's codec, which also finds a bad byte.
    """
    converted = cp932.to_utf8(data, start)
    if converted is not None:
        return converted
    try:
        return codecs.decode(memoryview(data)[start:], "cp932").encode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start  # from the start of the file, as the message says
        line = _line_at(data, at)
        raise InputError(text("read.not_cp932", path=path, line=line, offset=at)) from None


def _looks_utf8(data: bytes) -> bool:
    """Whether the first 64 KiB are UTF-8: Shift_JIS headers fail at once, without a parse."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[: 1 << 16], final=False)
    except UnicodeDecodeError:
        return False
    return True


def _damaged_utf8(data: bytes, start: int) -> bool:
    """Whether the first 64 KiB, which are not UTF-8, are UTF-8 text with a byte or
    a few damaged rather than Shift_JIS.

    Read as UTF-8, Shift_JIS gives a broken sequence at nearly every Japanese
    character and a readable one by chance only; UTF-8 with a lost byte gives one
    broken sequence among many readable ones. Read as CP932, such a file either
    fails at a line far from the damage or, worse, turns every name to mojibake.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    head = decoder.decode(data[start : start + (1 << 16)], final=False)
    broken = head.count("\ufffd")
    readable = len(head) - len(head.encode("ascii", errors="ignore")) - broken
    return readable > 10 * broken


def _not_utf8(data: bytes, path: Path) -> str:
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    return text("read.not_utf8", path=path, line=_line_at(data, start), offset=start)


def _parse(data: bytes) -> pl.DataFrame:
    frame = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=False)
    # One memchr over the bytes: a file with no `=` at all (nearly every one) holds
    # no text formula, and its columns are not searched.
    return _text_formulas_read(frame) if b"=" in data else frame


# `="01001"`: how a system exporting for Excel keeps a value as text (leading
# zeros, long numbers). Excel shows the text inside; a quote in it is doubled.
_TEXT_FORMULA = r'^="((?:[^"]|"")*)"$'


def _text_formulas_read(frame: pl.DataFrame) -> pl.DataFrame:
    """Each cell written as a text formula (`="01001"`) read as the text Excel shows
    (`01001`). Any other formula (`=A1`, `="0"&A1`) stays as given, to be reported."""
    found = [c for c in frame.columns if frame.get_column(c).str.starts_with('="').any()]
    # `extract` is null exactly where the cell is no text formula (`=""` gives "",
    # as `""` does): one regex pass, and the cell as given everywhere else.
    return frame.with_columns(
        pl.coalesce(
            pl.col(c).str.extract(_TEXT_FORMULA, 1).str.replace_all('""', '"', literal=True),
            pl.col(c),
        ).alias(c)
        for c in found
    )


def _read_csv(path: Path, data: bytes) -> pl.DataFrame:
    """The file as UTF-8 (with or without BOM) as it is, or Shift_JIS read as CP932
    (髙 and 﨑 exist only there) and transcoded once.

    UTF-8 is not decoded in Python: polars validates it while parsing (and
    skips a BOM), and only a file that fails is tried as CP932. The file is
    copied only by the transcode and by the rewrite of lone CRs: each copy of a
    million members' roster holds the GIL for a tenth of a second or more.
    """
    if not data or data.isspace():
        raise InputError(text("read.empty", path=path))
    _refuse_binary(data, path)
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    # What polars parses: lone CRs made LFs. `data` stays the file as it is, so
    # that a message's line and byte offset are the file's.
    parsed = data
    try:
        if _looks_utf8(data):
            parsed = _line_breaks(data)
            try:
                return _parse(parsed)
            except pl.exceptions.ComputeError as exc:
                if "invalid utf-8" not in str(exc):
                    raise
                if not data[start : 1 << 16].isascii():
                    # It began as UTF-8 Japanese: one bad byte further on is damage,
                    # not Shift_JIS, and reading it as CP932 would garble every name.
                    raise InputError(_not_utf8(data, path)) from None
        elif _damaged_utf8(data, start):  # the same, with the damage early on
            raise InputError(_not_utf8(data, path))
        parsed = _line_breaks(_from_cp932(data, path, start))
        return _parse(parsed)
    except pl.exceptions.ComputeError as exc:
        decoded = parsed.decode("utf-8-sig", errors="replace")
        if "more fields" in str(exc):
            line = _first_long_record(decoded)
            raise InputError(text("read.long_row", path=path, row=line)) from None
        broken = _first_broken_quote(decoded)
        if broken is not None:
            line, column = broken
            raise InputError(
                text("read.broken_quote", path=path, line=line, column=column)
            ) from None
        raise


def _first_long_record(decoded: str) -> int:
    """The 1-based data row with more fields than the header (reported, not repaired)."""
    import csv  # only on this error path

    rows = csv.reader(io.StringIO(decoded))
    width = len(next(rows))
    return next((i for i, r in enumerate(rows, start=1) if len(r) > width), 0)


def _first_broken_quote(decoded: str) -> tuple[int, str] | None:
    """(line in the file, column) of the first value whose quotes are broken: one
    not closed, text after a closing quote, or an odd number of quotes inside a
    value not quoted (the parser reads them in pairs: `コーポ"さくら"101` is fine).

    Scanned here, on this error path only, because the parser's own message
    quotes the broken value up to the end of the file.
    """
    lines = decoded.splitlines()
    header: list[str] = next(_csv_reader(lines[:1]), []) if lines else []
    line, i, field, in_quotes, quoted, start, stray = 1, 0, 0, False, False, 1, 0
    while i < len(decoded):
        c = decoded[i]
        if in_quotes:
            if c == '"' and decoded[i + 1 : i + 2] == '"':
                i += 1
            elif c == '"':
                in_quotes = False
                after = decoded[i + 1 : i + 2]
                if after not in ("", ",", "\n", "\r"):
                    return line, _column_name(header, field)
            elif c == "\n":
                line += 1
        elif c == '"' and quoted is False and decoded[i - 1 : i] in ("", ",", "\n", "\r"):
            in_quotes, quoted, start = True, True, line
        elif c == '"' and not quoted:
            stray += 1  # a quote inside a value not quoted
        elif c in ",\n" and stray % 2:
            return line, _column_name(header, field)
        elif c == ",":
            field, quoted, stray = field + 1, False, 0
        elif c == "\n":
            line, field, quoted, stray = line + 1, 0, False, 0
        i += 1
    if stray % 2:
        return line, _column_name(header, field)
    return (start, _column_name(header, field)) if in_quotes else None


def _column_name(header: list[str], index: int) -> str:
    if index < len(header):
        return text("read.column.named", number=index + 1, header=header[index])
    return text("read.column.bare", number=index + 1)


def _csv_reader(lines: list[str]):
    import csv  # only on error paths

    return csv.reader(lines)


def _read_excel(path: Path, source: Source, data: bytes) -> pl.DataFrame:
    """The first sheet whose header row names every required column of `source`.

    The workbook is handed over as bytes, where the reader goes by the
    content: a workbook named otherwise (an .xls saved as .xlsx, or as .csv)
    is read as what it is.

    Workbooks often open with a cover or notes sheet; the data may be on the
    second, and an empty form (様式) may sit beside it. Which sheet was read is
    not guessed beyond that: none matching is an error listing the sheets, and
    so are two that hold rows (a roster split over 本社 and 支社 sheets would
    otherwise lose every member of the second in silence). A sheet that is the
    other input is returned, so that the header check says the two files were
    swapped.
    """
    sheets = pl.read_excel(
        io.BytesIO(data),
        engine="calamine",
        sheet_id=0,
        infer_schema_length=0,
        raise_if_empty=False,
    )
    for wanted in (source, OTHER[source]):
        aliases = alias_map(wanted)
        required = {c.name for c in SCHEMAS[wanted] if c.required}
        matching = [
            name
            for name, frame in sheets.items()
            if required <= {aliases.get(header_key(h)) for h in frame.columns}
        ]
        filled = [name for name in matching if _holds_rows(sheets[name])]
        if wanted == source and len(filled) > 1:
            raise InputError(text("read.sheets_many", path=path, sheets=", ".join(filled)))
        matching = filled or matching
        if matching:
            # Excel date cells come back as 'YYYY-MM-DD 00:00:00'; the time is an artefact.
            return sheets[matching[0]].with_columns(
                pl.all().cast(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
            )
    first = next(iter(sheets.values()), pl.DataFrame())
    if len(sheets) == 1:
        return first.with_columns(pl.all().cast(pl.String))  # reported as missing columns
    raise InputError(
        text("read.no_sheet", path=path, sheets=", ".join(sheets), data=text(f"read.data.{source}"))
    )


def _holds_rows(sheet: pl.DataFrame) -> bool:
    """Whether a sheet has a row below its header with a value in it."""
    cells = sheet.select(pl.all().cast(pl.String).str.strip_chars())
    return cells.select(pl.any_horizontal(pl.all().fill_null("") != "")).to_series().any()


def _read_parquet(path: Path, data: bytes) -> pl.DataFrame:
    """Every column as text, as a CSV would give it.

    pandas writes dates as timestamps at midnight and whole numbers with a gap
    as floats: those are written as the date (`1980-03-01`) and the number
    (`1`, not `1.0`), so that they read as the CSV's would. A time of day or a
    fraction is kept, and validation reports it; so is a 32-bit float, which
    holds a twelve-digit number only rounded (never repaired in silence).
    A column named twice, or of a type no text stands for (a duration, a list),
    is refused by its name.
    """
    import pyarrow.parquet as pq  # only for a Parquet input: 0.07 s to import

    names = pq.read_schema(io.BytesIO(data)).names
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise InputError(text("read.header_twice", path=path, header=visible(twice)))
    frame = pl.read_parquet(io.BytesIO(data))
    for name, dtype in frame.schema.items():
        if dtype.is_nested() or dtype in (pl.Duration, pl.Object, pl.Binary):
            raise InputError(
                text("read.parquet_type", path=path, column=visible(name), type=str(dtype))
            )
    midnight = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.Datetime and (frame[name].dt.time().drop_nulls() == dt.time(0)).all()
    ]
    whole = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.Float64 and _whole(frame[name].drop_nulls().drop_nans())
    ]
    return frame.with_columns(
        pl.col(midnight).dt.date(),
        pl.col(whole).cast(pl.Int64, strict=False),
    ).with_columns(pl.all().cast(pl.String))


def _whole(values: pl.Series) -> bool:
    """Whether every float is a whole number a float holds exactly (|x| < 2**53)."""
    return bool(((values % 1 == 0) & (values.abs() < 2**53)).all())


def _canonical_columns(
    frame: pl.DataFrame, path: Path, source: Source, counterpart: Path | None = None
) -> pl.DataFrame:
    aliases = alias_map(source)
    renamed: dict[str, str] = {}
    for header in frame.columns:
        if "_duplicated_" in header:
            original = header.split("_duplicated_")[0]
            if aliases.get(header_key(original)) is None:
                # A column recon does not read, named twice: the blank headers of a
                # spreadsheet's empty trailing columns, or two memo columns. Ignored
                # like any column recon does not use.
                continue
            raise InputError(text("read.header_twice", path=path, header=visible(original)))
        name = aliases.get(header_key(header))
        if name is None:
            continue  # columns recon does not use are ignored, not an error
        if name in renamed.values():
            first = next(h for h, n in renamed.items() if n == name)
            raise InputError(
                text(
                    "read.header_same_meaning",
                    path=path,
                    first=visible(first),
                    second=visible(header),
                    name=name,
                    ja_header=JA_HEADER[name],
                )
            )
        renamed[header] = name
    present = set(renamed.values())
    missing = [c for c in SCHEMAS[source] if c.required and c.name not in present]
    if missing:
        evidence = _other_input_headers(frame.columns, source)
        if evidence:
            raise InputError(_swapped(path, source, evidence, counterpart))
        names = ", ".join(f"{c.name} ({c.headers[0]})" for c in missing)
        # A file without a header row has its first member's name, birth date
        # and address where the headers are: row 1 is quoted only when recon
        # recognises a header in it, so that it is a header row.
        found = (
            text("read.missing_found.headers", headers=", ".join(map(visible, frame.columns)))
            if renamed
            else text("read.missing_found.none", count=len(frame.columns))
        )
        raise InputError(
            text(
                "read.missing_columns",
                path=path,
                names=names,
                data=text(f"read.data.{source}"),
                found=found,
            )
        )
    frame = frame.select([pl.col(h).alias(n) for h, n in renamed.items()])
    absent = [c.name for c in SCHEMAS[source] if c.name not in present]
    return frame.with_columns(pl.lit(None, pl.String).alias(n) for n in absent).select(
        [c.name for c in SCHEMAS[source]]
    )


def _other_input_headers(headers: list[str], source: Source) -> list[str]:
    """The headers that make this file the other input, or [] when it is not.

    Judged by the columns only the other input has (`columns.only_in`): a
    roster lacking one of its own columns is a roster with a missing column,
    but a file holding 個人番号 and 届出日 is a filings file, whatever it was given as.
    """
    other = OTHER[source]
    aliases = alias_map(other)
    wanted = {c.name for c in only_in(other)}
    found = {aliases.get(header_key(h)): h for h in headers if aliases.get(header_key(h)) in wanted}
    return [found[c.name] for c in only_in(other)] if set(found) == wanted else []


def _swapped(path: Path, source: Source, evidence: list[str], counterpart: Path | None) -> str:
    values = {"path": path, "evidence": ", ".join(evidence)}
    if counterpart is None:
        return text(f"read.swapped_alone.{source}", **values)
    return text(f"read.swapped.{source}", other=counterpart, **values)
