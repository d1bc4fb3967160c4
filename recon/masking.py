"""The privacy boundary (SPEC §9): nothing leaves `recon` without passing here.

A My Number (個人番号) is 特定個人情報. Every writer, every message printed to a
terminal and every exception text goes through this module, which masks a
My Number down to its last four digits (`********9018`). The pipeline also
never puts a number into a finding's detail in the first place; this module is
the second line that holds even when a future change forgets the first.
"""

from __future__ import annotations

import re

import polars as pl

from recon.errors import InvariantError

MASK = "********"

# Every character NFKC turns into one digit, as the My Number reader does:
# ASCII, full-width, circled (①) and mathematical (𝟏) digits.
_DIGITS = "0-9０-９⓪①-⑨\U0001d7ce-\U0001d7ff"
_D = f"[{_DIGITS}]"
_NOT_D = f"[^{_DIGITS}]"
_SEP = "[ \u3000\\-‐－−ー﹣]?"
# Twelve digits grouped 4-4-4 the way the card prints them: masked to the last four.
# Python's `re` has look-around; polars' engine has not, so the frame version
# captures the neighbours and puts them back.
_TWELVE_PY = re.compile(f"(?<!{_D}){_D}{{4}}{_SEP}{_D}{{4}}{_SEP}({_D}{{4}})(?!{_D})")
_TWELVE_PL = f"(^|{_NOT_D})({_D}{{4}}){_SEP}({_D}{{4}}){_SEP}({_D}{{4}})({_NOT_D}|$)"
# Any other spelling the My Number reader accepts (digits with spaces or hyphens
# anywhere, as many as they like, `123 456 789 018`, `1234 - 5678 - 9018`): masked whole.
_LOOSE = "[\\s\\-‐‑‒–—―−－ー﹣]*"
# Every match of this or the 4-4-4 pattern contains this run (`_SEP` is in `_LOOSE`).
_RUN = f"{_D}(?:{_LOOSE}{_D}){{11}}"
_ANY_TWELVE_PY = re.compile(f"(?<!{_D}){_RUN}(?!{_D})")
_ANY_TWELVE_PL = f"(^|{_NOT_D})({_RUN})({_NOT_D}|$)"


def mask_expr(digits: pl.Expr) -> pl.Expr:
    """`123456789018` -> `********9018`, for cleaned digit strings."""
    return (
        pl.when(digits.str.len_chars() >= 4)
        .then(pl.lit(MASK) + digits.str.slice(-4))
        .otherwise(pl.lit(MASK))
    )


def scrub(text: str) -> str:
    """Mask every twelve-digit run in free text (messages, exception texts)."""
    text = _TWELVE_PY.sub(lambda m: MASK + m.group(1), text)
    return _ANY_TWELVE_PY.sub(MASK, text)


def scrub_expr(column: str) -> pl.Expr:
    """Vectorized `scrub` for a text column."""
    expr = pl.col(column)
    # Each pattern runs twice: a match consumes one neighbour, so back-to-back
    # runs need a second pass.
    for _ in range(2):
        expr = expr.str.replace_all(_TWELVE_PL, "${1}" + MASK + "${4}${5}")
    for _ in range(2):
        expr = expr.str.replace_all(_ANY_TWELVE_PL, "${1}" + MASK + "${3}")
    return expr


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The one door out: refuse a raw number column, scrub every text column."""
    leaked = [c for c in frame.columns if c in {"my_number", "my_number_raw"}]
    if leaked:
        raise InvariantError(
            f"a writer was handed the column(s) {leaked}; only masked values may leave"
        )
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(_scrubbed(frame.get_column(c)) for c in text_cols)


def _scrubbed(cells: pl.Series) -> pl.Series:
    """`scrub_expr` on the cells that hold twelve digits at all, the rest as they are.

    Both patterns need twelve digits, so a cell with fewer cannot match; the
    four regex passes over a million names and dates were the slowest part of
    writing the outputs.
    """
    # Twelve digits take at least twelve bytes: codes, dates and ids are shorter,
    # and a string's byte length costs nothing to read.
    where = (cells.str.len_bytes() >= 12).fill_null(False).arg_true()
    where = where.filter(cells.gather(where).str.count_matches(_D) >= 12)
    # Twelve digits in a cell are not yet twelve in a row (`1000-1-00 お知らせ; 1000-1-01`):
    # one search for a run settles it before the four rewriting passes.
    where = where.filter(cells.gather(where).str.contains(_RUN))
    if where.is_empty():
        return cells
    fixed = cells.gather(where).to_frame().select(scrub_expr(cells.name)).to_series()
    return cells.scatter(where, fixed)
