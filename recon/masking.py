"""The privacy boundary (SPEC §9): a My Number is known by its column, not by its look.

A My Number (個人番号) is 特定個人情報. The filed number never leaves
normalize except as `********9018` (`mask_expr`) and a keyed hash. Identifiers
(member, household and employee ids, insurer numbers, rows, finding ids,
keyed hashes) are written exactly as read, whatever their length: `1000-181800-00`
holds twelve digits and is not a My Number.

What is left is free text that is written — names, addresses, the details of
findings that quote them, waiver texts, messages: a My Number can reach it only
by a column shift or a person typing it. Such text is scrubbed of every run of
exactly twelve digits (in any spelling the reader accepts, not part of a longer
run of digits) that passes the My Number check digit. A run failing the check
digit is some other number (a phone number, a room number) and is left as is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import polars as pl

from recon.errors import InvariantError

MASK = "********"

# Every character NFKC turns into one digit, as the My Number reader does:
# ASCII, full-width, circled (①) and mathematical (𝟏) digits.
_DIGITS = "0-9０-９⓪①-⑨\U0001d7ce-\U0001d7ff"
_D = f"[{_DIGITS}]"
# What the reader removes between digits (recon.normalize.numbers.digits_only,
# before NFKC: full-width and small hyphens, the ideographic space).
_SEP = "[\\s\\-‐‑‒–—―−－ー﹣]"
# Every twelve digits the reader would read as one number contain this run: the
# cheap test that leaves nearly every cell out before any check digit is computed.
_RUN = f"{_D}(?:{_SEP}*{_D}){{11}}"
# A chain: groups of consecutive digits joined by separators. A My Number is a
# window of whole groups of one chain holding exactly twelve digits, so that it
# is never part of a longer run of consecutive digits.
_CHAIN = f"{_D}+(?:{_SEP}+{_D}+)*"
_CHAIN_PY = re.compile(_CHAIN)
_GROUP_PY = re.compile(f"{_D}+")

# 総務省令第85号 第5条 (SPEC §3.2): weights of the first 11 digits, left to right.
_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# The fields that identify, by the input a finding is about: a value quoted from
# them is written as it is, never scrubbed. The roster's 記号, 番号 and 枝番 make up
# its member ids, which every file writes as read (SPEC §9). A filing's 枝番 makes
# no id: a value it failed with is free text, so a My Number shifted into it is
# masked as it would be in a name.
IDENTIFIER_FIELDS: dict[str, frozenset[str]] = {
    "roster": frozenset(
        {"member_id", "household_id", "employee_id", "insurer_number", "symbol", "number", "branch"}
    ),
    "filings": frozenset({"member_id", "household_id", "employee_id"}),
}
# Checks whose detail quotes nothing but identifiers, codes, dates, counts and
# masked numbers (sql/08_input_finding.sql, sql/09_finding.sql; gx.* details
# are counts). Every other check's detail may quote a name or an address as
# given, and is scrubbed: a check added later is scrubbed until it is known to
# quote no free text.
ID_ONLY_DETAILS = frozenset(
    {
        "roster.duplicate_member",
        "roster.insurer_number",
        "roster.no_insured",
        "my_number.format",
        "my_number.check_digit",
        "my_number.duplicate",
        "my_number.conflict",
        "filing.orphan",
        "filing.missing",
        "match.birth_date",
        "match.sex",
        "overseas.no_designated_address",
        "overseas.emigrated_before_2015",
        "overseas.never_registered",
    }
)


def mask_expr(digits: pl.Expr) -> pl.Expr:
    """`123456789018` -> `********9018`, for cleaned digit strings."""
    return (
        pl.when(digits.str.len_chars() >= 4)
        .then(pl.lit(MASK) + digits.str.slice(-4))
        .otherwise(pl.lit(MASK))
    )


def check_digit_ok(digits: str) -> bool:
    """Whether twelve ASCII digits carry the My Number check digit (SPEC §3.2)."""
    r = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False)) % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def _check_digit_ok_expr(digits: pl.Expr) -> pl.Expr:
    """`check_digit_ok` for a column of twelve ASCII digits."""
    total = pl.sum_horizontal(
        digits.str.slice(i, 1).cast(pl.Int32) * w for i, w in enumerate(_WEIGHTS)
    )
    r = total % 11
    expected = pl.when(r <= 1).then(0).otherwise(11 - r)
    return digits.str.slice(11, 1).cast(pl.Int32) == expected


def _my_number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, last four digits) of each window that passes the check digit."""
    spans = []
    for chain in _CHAIN_PY.finditer(text):
        groups = list(_GROUP_PY.finditer(text, chain.start(), chain.end()))
        digits = [unicodedata.normalize("NFKC", g.group()) for g in groups]
        if sum(map(len, digits)) < 12:
            continue
        for i in range(len(groups)):
            window = ""
            for j in range(i, len(groups)):
                window += digits[j]
                if len(window) >= 12:
                    break
            if len(window) == 12 and check_digit_ok(window):
                spans.append((groups[i].start(), groups[j].end(), window[-4:]))
    return spans


def _kept_spans(text: str, keep: Iterable[str]) -> list[tuple[int, int]]:
    out = []
    for value in keep:
        if not value:
            continue
        start = text.find(value)
        while start >= 0:
            out.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return out


def scrub(text: str, keep: Iterable[str] = ()) -> str:
    """Free text with every My Number in it masked to `********9018`.

    `keep`: identifiers the text quotes (an error naming a member id); a run
    inside one of them is the identifier, not a number to mask.
    """
    kept = _kept_spans(text, keep)
    while True:
        spans = [
            (s, e, last)
            for s, e, last in _my_number_spans(text)
            if not any(ks <= s and e <= ke for ks, ke in kept)
        ]
        if not spans:
            return text
        # Overlapping windows (`1234 5678 9018 0005`, both valid) become one mask.
        merged: list[list] = []
        for s, e, last in sorted(spans):
            if merged and s < merged[-1][1]:
                merged[-1][1], merged[-1][2] = max(e, merged[-1][1]), last
            else:
                merged.append([s, e, last])
        for s, e, last in reversed(merged):
            text = text[:s] + MASK + last + text[e:]
        # The kept identifiers are found again in the new text; its masks only
        # shortened what lay between them. A mask's last four digits may join
        # digits after it into a new window: the loop masks that too.
        kept = _kept_spans(text, keep)


def _candidates(cells: pl.Series) -> pl.Series:
    """Positions of the cells that may hold twelve digits in a row at all (cheap tests)."""
    # Twelve digits take at least twelve bytes: codes, dates and short ids are
    # shorter, and a string's byte length costs nothing to read.
    where = (cells.str.len_bytes() >= 12).fill_null(False).arg_true()
    where = where.filter(cells.gather(where).str.count_matches(_D) >= 12)
    return where.filter(cells.gather(where).str.contains(_RUN))


def _with_my_number(cells: pl.Series) -> pl.Series:
    """Of the cells at `_candidates`, the positions of those holding a valid window.

    Vectorized: each chain's groups are numbered by how many digits come
    before them, and a window is a group starting at `k` joined to one ending
    at `k + 12` of the same chain; only those windows get the check digit.
    """
    where = _candidates(cells)
    if where.is_empty():
        return where
    chains = (
        pl.DataFrame({"at": where, "text": cells.gather(where)})
        .select("at", chain=pl.col("text").str.extract_all(_CHAIN))
        .explode("chain")
        .drop_nulls("chain")
        .with_row_index("chain_no")
    )
    groups = (
        chains.select("at", "chain_no", group=pl.col("chain").str.extract_all(f"{_D}+"))
        .explode("group")
        .with_columns(pl.col("group").str.normalize("NFKC"))
        .with_columns(after=pl.col("group").str.len_chars().cum_sum().over("chain_no"))
        .with_columns(before=pl.col("after") - pl.col("group").str.len_chars())
    )
    digits = groups.group_by("chain_no").agg(digits=pl.col("group").str.join(""))
    windows = (
        groups.select("at", "chain_no", "before")
        .join(
            groups.select("chain_no", end=pl.col("after")),
            left_on=["chain_no", pl.col("before") + 12],
            right_on=["chain_no", "end"],
        )
        .join(digits, on="chain_no")
        .filter(_check_digit_ok_expr(pl.col("digits").str.slice(pl.col("before"), 12)))
    )
    return windows["at"].unique().sort()


def scrub_series(cells: pl.Series) -> pl.Series:
    """`scrub` for a column of free text, vectorized.

    Only the cells that hold a valid window go through `scrub` (a column
    shift of a whole file would put every name here; otherwise it is a
    handful): the pre-filter and the check digit are column operations.
    """
    where = _with_my_number(cells)
    if where.is_empty():
        return cells
    fixed = pl.Series(cells.name, [scrub(c) for c in cells.gather(where)], dtype=pl.String)
    return cells.clone().scatter(where, fixed)  # a new series: the caller's stays as it is


def shows_my_number(cells: pl.Series) -> pl.Series:
    """Per cell: does it hold a run of twelve digits that passes the check digit."""
    found = pl.Series(cells.name, [False] * cells.len(), dtype=pl.Boolean)
    where = _with_my_number(cells)
    return found.scatter(where, True) if not where.is_empty() else found


def _refuse_numbers(frame: pl.DataFrame) -> None:
    leaked = [c for c in frame.columns if c in {"my_number", "my_number_raw"}]
    if leaked:
        raise InvariantError(
            f"a writer was handed the column(s) {leaked}; only masked values may leave"
        )


def safe_frame(frame: pl.DataFrame, free_text: Iterable[str] = ()) -> pl.DataFrame:
    """The one door out: refuse a raw number column, scrub the free-text columns.

    The writer names its free-text columns; every other column is an
    identifier, a code, a date, a count or text recon composed from already
    scrubbed parts, and is written as it is.
    """
    _refuse_numbers(frame)
    return frame.with_columns(
        scrub_series(frame.get_column(c)) for c in free_text if c in frame.columns
    )


def free_text_detail(findings: pl.DataFrame) -> pl.Series:
    """Per finding: whether its detail may quote free text (see `ID_ONLY_DETAILS`)."""
    check = findings.get_column("check")
    field = findings.get_column("field").fill_null("")
    source = findings.get_column("source")
    identifier = pl.repeat(False, findings.height, eager=True)
    for name, fields in IDENTIFIER_FIELDS.items():
        identifier = identifier | ((source == name) & field.is_in(sorted(fields)))
    id_only = (
        check.is_in(list(ID_ONLY_DETAILS))
        | check.str.starts_with("gx.")
        | ((check == "input.invalid_value") & identifier)
    )
    return ~id_only.fill_null(False)


def written_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings as they are written: the free-text details scrubbed, nothing else.

    An identifier in a detail (`no roster member has employee id 123456789018`)
    is written as read: it is known by the column it came from, whatever its
    digits happen to add up to.
    """
    _refuse_numbers(findings)
    if findings.is_empty():
        return findings
    free = free_text_detail(findings).arg_true()
    if free.is_empty():
        return findings
    details = findings.get_column("detail")
    scrubbed = scrub_series(details.gather(free))
    return findings.with_columns(details.clone().scatter(free, scrubbed))


def scrub_json(value, keep: frozenset[str] = frozenset()):
    """Every string of a JSON document scrubbed, except the values of the keys in `keep`."""
    if isinstance(value, dict):
        return {k: v if k in keep else scrub_json(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, keep) for v in value]
    return scrub(value) if isinstance(value, str) else value


def error_text(exc: BaseException) -> str:
    """An exception's text for a terminal or a log: scrubbed, its identifiers kept.

    recon's own errors quote at most one offending value, already masked, and
    name the identifiers they quote (`identifiers`); any other exception's text
    is scrubbed whole.
    """
    return scrub(str(exc), keep=getattr(exc, "identifiers", ()))
