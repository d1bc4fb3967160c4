"""Step 1, read: a roster or filings file -> a frame of text with canonical names.

Every value is read as text (SPEC §3): parsing happens later, so that a bad
value becomes an `input.invalid_value` finding instead of a crash. What cannot
be read at all (unknown encoding, broken CSV, missing required column) is an
`InputError` naming the file, the row and the column: exit 2.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
from pathlib import Path

import polars as pl

from recon.columns import JA_HEADER, SCHEMAS, Source, alias_map, header_key
from recon.errors import InputError
from recon.masking import scrub

ROW = "row"  # 1-based data row in the file, as the operator counts it (header excluded)


def read_table(path: Path, source: Source, data: bytes | None = None) -> tuple[pl.DataFrame, int]:
    """(all columns of one input as String with canonical names and `row`, blank rows).

    `data`, when given, is the file's content held in memory (a file at a git
    revision, never written to disk); `path` then only names it.

    Rows are numbered as they stand in the file; rows without a single value
    (blank lines, the `,,,,` tails of spreadsheet exports) are then set aside
    and counted, so that conservation accounts for them.
    """
    frame = _canonical_columns(_read_raw(path, source, data), path, source)
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    blank = _blank_rows(frame)
    kept = frame.filter(~pl.col(ROW).is_in(blank.implode())) if blank.len() else frame
    if source == "roster" and kept.height == 0:
        # A mailing decided on an empty roster is always a mistake (a filings file
        # with no rows is possible: nobody has filed yet).
        raise InputError(f"{path}: the roster has a header row but no members.")
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


# What each input is, as messages name it: (Japanese, English).
TABLE_NAMES: dict[Source, tuple[str, str]] = {
    "roster": ("加入者台帳のファイル", "the roster file (CSV, xlsx or Parquet)"),
    "filings": ("事業主届出のファイル", "the filings file (CSV, xlsx or Parquet)"),
}
_TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


def require_file(path: Path, option: str, what_ja: str, what_en: str) -> None:
    """Refuse, before opening it, a `path` that is not a regular file, saying what it is.

    A folder or a typo is the usual mistake; a pipe (`<(…)`, a FIFO) would be
    read once and then found empty when read again, and a device such as
    `/dev/zero` never ends. `what_ja` / `what_en` name the file the option wants.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        dangling = path.is_symlink()
        link_ja = "（リンク先がありません）" if dangling else ""
        link_en = f" (a symbolic link to {os.readlink(path)}, which is missing)" if dangling else ""
        raise InputError(
            f"{path}: ファイルがありません{link_ja}。{option} のパスを確かめてください。 / "
            f"{path}: no such file{link_en}; check the path given to {option}."
        ) from None
    except OSError as exc:
        raise InputError(
            f"{path}: 読めません（{exc.strerror}）。 / {path}: cannot be read ({exc.strerror})."
        ) from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        inside = _files_inside(path)
        # The example is a file named like the option (roster.csv for --roster), if any.
        named = [p for p in inside if option.lstrip("-") in p.name.lower()]
        hint_ja = f"（例: {option} {named[0]}）" if named else ""
        hint_en = f" (in it: {', '.join(str(p.name) for p in inside)})" if inside else ""
        raise InputError(
            f"{path} はフォルダです。{option} にはその中の{what_ja}を指定してください"
            f"{hint_ja}。 / {path} is a folder, not a file: pass {option} {what_en} inside it"
            f"{hint_en}."
        )
    if stat.S_ISFIFO(mode):
        raise InputError(
            f"{path} はパイプ（FIFO）で、ファイルではありません。流れてくる内容をいったん"
            f"ファイルに保存し、{option} にはその{what_ja}を指定してください。 / "
            f"{path} is a pipe (FIFO), not a file: save what comes through it to a file first, "
            f"and pass {option} that file."
        )
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind_ja, kind_en = "デバイス", "a device"
    elif stat.S_ISSOCK(mode):
        kind_ja, kind_en = "ソケット", "a socket"
    else:
        kind_ja, kind_en = "特殊ファイル", "a special file"
    raise InputError(
        f"{path} は{kind_ja}で、ファイルではありません。{option} には{what_ja}を指定して"
        f"ください。 / {path} is {kind_en}, not a file: pass {option} {what_en}."
    )


def _files_inside(folder: Path) -> list[Path]:
    """Up to five files in `folder` that could be the input, for the message."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / n for n in names if n.lower().endswith(_TABLE_SUFFIXES)][:5]


def _read_raw(path: Path, source: Source, data: bytes | None = None) -> pl.DataFrame:
    if data is None:
        require_file(path, f"--{source}", *TABLE_NAMES[source])
    if data is None:
        with path.open("rb") as handle:
            head = handle.read(8)
    else:
        head = data[:8]
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx" or head.startswith(b"PK\x03\x04"):
            return _read_xlsx(path, source, data)
        if suffix == ".parquet" or head.startswith(b"PAR1"):
            return _read_parquet(path, data)
        return _read_csv(path, data)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).") from None
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one clear message
        raise InputError(f"{path}: the file cannot be read as a table ({_reason(exc)}).") from None


def _reason(exc: Exception) -> str:
    """What a reader library said, without the values it quotes.

    polars and calamine quote the cell (for a broken quote, the rest of the
    record: name, birth date, address) between backticks or quotes; SPEC §9
    allows at most one offending value in a message, masked, so none is kept.
    """
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return scrub(_QUOTED.sub("…", first))


_QUOTED = re.compile(r"`[^`]*`?|\"[^\"]*\"?|'[^']*'?")


def _utf8(data: bytes, path: Path) -> bytes:
    """The file as UTF-8 bytes: UTF-8 (with or without BOM) as it is, or Shift_JIS
    read as CP932 (髙 and 﨑 exist only there) and transcoded once.

    UTF-8 is not decoded in Python: polars validates it while parsing, and only
    a file that fails is tried as CP932.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: the file is UTF-16; save it as UTF-8 or Shift_JIS (CP932) CSV.")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InputError(f"{path}: line {line} contains a NUL byte; this is not a text CSV file.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    return data


def _line_breaks(data: bytes) -> bytes:
    """Every line break as LF, when the file has any CR alone (old Mac, or files joined).

    A CR alone is a line break to Excel, to Python's csv module and to every
    editor: a CR-only file read as one line would look like a header naming
    the same column over and over. CRLF and LF files (nearly all) pass as they
    are; the two counts run at memory speed.
    """
    if data.count(b"\r") == data.count(b"\r\n"):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _from_cp932(data: bytes, path: Path) -> bytes:
    try:
        return data.decode("cp932").encode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}: line {line} has bytes that are neither UTF-8 nor Shift_JIS (CP932) "
            f"(byte offset {exc.start}); re-export the file as UTF-8 or Shift_JIS CSV."
        ) from None


def _looks_utf8(data: bytes) -> bool:
    """Whether the first 64 KiB are UTF-8: Shift_JIS headers fail at once, without a parse."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[: 1 << 16], final=False)
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8(data: bytes, path: Path) -> str:
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    line = data.count(b"\n", 0, start) + 1
    return (
        f"{path}: line {line} has bytes that are not UTF-8 (byte offset {start}), though the "
        f"file starts as UTF-8; re-export the file as UTF-8 (or all of it as Shift_JIS)."
    )


def _parse(data: bytes) -> pl.DataFrame:
    return pl.read_csv(data, infer_schema=False, truncate_ragged_lines=False)


def _read_csv(path: Path, data: bytes | None = None) -> pl.DataFrame:
    data = path.read_bytes() if data is None else data
    if not data.strip():
        raise InputError(f"{path}: the file is empty; it needs a header row.")
    data = _line_breaks(_utf8(data, path))
    try:
        if _looks_utf8(data):
            try:
                return _parse(data)
            except pl.exceptions.ComputeError as exc:
                if "invalid utf-8" not in str(exc):
                    raise
                if not data[: 1 << 16].isascii():
                    # It began as UTF-8 Japanese: one bad byte further on is damage,
                    # not Shift_JIS, and reading it as CP932 would garble every name.
                    raise InputError(_not_utf8(data, path)) from None
        data = _from_cp932(data, path)
        return _parse(data)
    except pl.exceptions.ComputeError as exc:
        text = data.decode("utf-8", errors="replace")
        if "more fields" in str(exc):
            line = _first_long_record(text)
            raise InputError(
                f"{path}: data row {line} has more fields than the header row; "
                f"check for an unquoted comma in a value."
            ) from None
        broken = _first_broken_quote(text)
        if broken is not None:
            line, column = broken
            raise InputError(
                f"{path}: line {line}, column {column}: a quoted value is not closed, or has "
                f'text after its closing quote; check the quotes (") in that value.'
            ) from None
        raise


def _first_long_record(text: str) -> int:
    """The 1-based data row with more fields than the header (reported, not repaired)."""
    import csv  # only on this error path

    rows = csv.reader(io.StringIO(text))
    width = len(next(rows))
    return next((i for i, r in enumerate(rows, start=1) if len(r) > width), 0)


def _first_broken_quote(text: str) -> tuple[int, str] | None:
    """(line in the file, column) of the first value whose quotes are broken.

    Scanned here, on this error path only, because the parser's own message
    quotes the broken value up to the end of the file.
    """
    lines = text.splitlines()
    header = next(_csv_reader(lines[:1]), []) if lines else []
    line, i, field, in_quotes, quoted, start = 1, 0, 0, False, False, 1
    while i < len(text):
        c = text[i]
        if in_quotes:
            if c == '"' and text[i + 1 : i + 2] == '"':
                i += 1
            elif c == '"':
                in_quotes = False
                after = text[i + 1 : i + 2]
                if after not in ("", ",", "\n", "\r"):
                    return line, _column_name(header, field)
            elif c == "\n":
                line += 1
        elif c == '"' and quoted is False and text[i - 1 : i] in ("", ",", "\n", "\r"):
            in_quotes, quoted, start = True, True, line
        elif c == ",":
            field, quoted = field + 1, False
        elif c == "\n":
            line, field, quoted = line + 1, 0, False
        i += 1
    return (start, _column_name(header, field)) if in_quotes else None


def _column_name(header: list[str], index: int) -> str:
    return f"{index + 1} ({header[index]})" if index < len(header) else str(index + 1)


def _csv_reader(lines: list[str]):
    import csv  # only on error paths

    return csv.reader(lines)


def _read_xlsx(path: Path, source: Source, data: bytes | None = None) -> pl.DataFrame:
    """The first sheet whose header row names every required column.

    Workbooks often open with a cover or notes sheet; the data may be on the
    second. Which sheet was read is not guessed beyond that: none matching is
    an error listing the sheets.
    """
    sheets = pl.read_excel(
        path if data is None else io.BytesIO(data),
        engine="calamine",
        sheet_id=0,
        infer_schema_length=0,
        raise_if_empty=False,
    )
    aliases = alias_map(source)
    required = {c.name for c in SCHEMAS[source] if c.required}
    for frame in sheets.values():
        if required <= {aliases.get(header_key(h)) for h in frame.columns}:
            # Excel date cells come back as 'YYYY-MM-DD 00:00:00'; the time is an artefact.
            return frame.with_columns(
                pl.all().cast(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
            )
    first = next(iter(sheets.values()), pl.DataFrame())
    if len(sheets) == 1:
        return first.with_columns(pl.all().cast(pl.String))  # reported as missing columns
    raise InputError(
        f"{path}: no sheet has the required header row; sheets: {', '.join(sheets)}. "
        f"Put the {source} on a sheet whose first row holds the column names."
    )


def _read_parquet(path: Path, data: bytes | None = None) -> pl.DataFrame:
    frame = pl.read_parquet(path if data is None else io.BytesIO(data))
    return frame.with_columns(pl.all().cast(pl.String))


def _canonical_columns(frame: pl.DataFrame, path: Path, source: Source) -> pl.DataFrame:
    aliases = alias_map(source)
    renamed: dict[str, str] = {}
    for header in frame.columns:
        if "_duplicated_" in header:
            original = header.split("_duplicated_")[0]
            raise InputError(f"{path}: row 1 (header) names the column '{original}' twice.")
        name = aliases.get(header_key(header))
        if name is None:
            continue  # columns recon does not use are ignored, not an error
        if name in renamed.values():
            first = next(h for h, n in renamed.items() if n == name)
            raise InputError(
                f"{path}: row 1 (header) has both '{first}' and '{header}', which both mean {name} "
                f"({JA_HEADER[name]}); keep one."
            )
        renamed[header] = name
    present = set(renamed.values())
    missing = [c for c in SCHEMAS[source] if c.required and c.name not in present]
    if missing:
        names = ", ".join(f"{c.name} ({c.headers[0]})" for c in missing)
        # A file without a header row has its first member's name, birth date
        # and address where the headers are: row 1 is quoted only when recon
        # recognises a header in it, so that it is a header row.
        found = (
            f"headers found: {', '.join(frame.columns)}"
            if renamed
            else f"none of its {len(frame.columns)} values is a header recon knows "
            f"(if row 1 holds data, the header row is missing)"
        )
        raise InputError(
            f"{path}: row 1 (header) lacks the required column(s) {names} [input.missing_column]. "
            f"The {source} file needs these headers in English or Japanese; {found}."
        )
    frame = frame.select([pl.col(h).alias(n) for h, n in renamed.items()])
    absent = [c.name for c in SCHEMAS[source] if c.name not in present]
    return frame.with_columns(pl.lit(None, pl.String).alias(n) for n in absent).select(
        [c.name for c in SCHEMAS[source]]
    )
