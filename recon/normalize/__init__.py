"""Step 2, normalize: text as read -> canonical values and comparison keys (SPEC §4).

Every column keeps its given text when it cannot be understood, so the
validate step can report it as given. Comparison keys are extra columns; the
values shown in reports are never changed.
"""

from __future__ import annotations

import secrets

import polars as pl

from recon.columns import EDGES, SCHEMAS, Source
from recon.masking import mask_expr
from recon.normalize.codes import CODES, code_expr
from recon.normalize.dates import iso_dates
from recon.normalize.lookups import Lookups as Lookups  # shared by the two files (pipeline)
from recon.normalize.numbers import (
    digits_only,
    insurer_check_ok,
    my_number_problem,
    padded_digits,
)
from recon.normalize.text import (
    address_key,
    fold_small_kana,
    fold_variants,
    kana_plain,
    name_plain,
    on_subset,
)


def normalize(
    frame: pl.DataFrame, source: Source, *, keys: bool = True, lookups: Lookups | None = None
) -> pl.DataFrame:
    """Canonical values plus, with `keys`, the keys matching compares (`*_plain`, `*_key`).

    Without `keys` (`recon check`: each file on its own, no matching) the names,
    kana, addresses and employee ids are left as given: their keys are a third
    of this step. `lookups` shared by the two files' calls works out each
    distinct date, name, kana and address once for both (`lookups.py`).
    """
    lookups = lookups or Lookups()
    columns = SCHEMAS[source]
    # A cell of spaces is an empty cell: dates and coded columns see to it per
    # distinct value; text is stripped here, and then an empty cell is null.
    # Stripped of the characters that show nothing too: a cell holding only a
    # pasted zero-width space is empty, and <U+200B>1201 is the 記号 1201.
    text = [c.name for c in columns if c.kind == "text"]
    frame = frame.with_columns(pl.col(text).str.strip_chars(EDGES))
    frame = frame.with_columns(
        pl.when(pl.col(name).str.len_bytes() == 0).then(None).otherwise(pl.col(name)).alias(name)
        for name in text
    )
    if source == "filings":
        frame = frame.with_columns(_blank_is_null("my_number"))
    # With each date's Date beside it: validation then types the dates without parsing them.
    frame = iso_dates(frame, [c.name for c in columns if c.kind == "date"], lookups, typed=True)
    # column -> (its value per distinct value, the type it is kept as). Codes take a
    # handful of values: kept as categoricals, later steps work on those few.
    per_value: dict[str, tuple[pl.Expr, pl.DataType]] = {}
    for c in columns:
        if c.kind in CODES:
            per_value[c.name] = (code_expr(c.name, c.kind), pl.Categorical())
        elif c.kind == "insurer_number":
            per_value[c.name] = (padded_digits(c.name, 8), pl.String())
        elif c.kind == "branch":
            per_value[c.name] = (padded_digits(c.name, 2), pl.String())
        elif c.kind == "postal_code":
            per_value[c.name] = (padded_digits(c.name, 7, strip="\\-‐−ー"), pl.String())
    frame = _on_distinct(frame, per_value)
    if keys:
        frame = _comparison_keys(frame, lookups)
    return _roster_ids(frame) if source == "roster" else _filing_number(frame)


def _on_distinct(
    frame: pl.DataFrame, exprs: dict[str, tuple[pl.Expr, pl.DataType]]
) -> pl.DataFrame:
    """Each `exprs[column]` (an expression reading only that column, and the type of
    its result) computed once per distinct value.

    Codes, branches and postal codes take a handful of values in a million rows:
    NFKC and the regexes run on those, and the result is mapped back.
    """
    return frame.with_columns(
        _per_distinct(frame.get_column(name).cast(pl.String), expr, dtype).alias(name)
        for name, (expr, dtype) in exprs.items()
    )


def _per_distinct(column: pl.Series, expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """`expr` (reading only `column`; a blank value is null) per distinct value, mapped back."""
    name = column.name
    values = column.drop_nulls().unique()
    results = values.to_frame(name).select(_blank_is_null(name)).select(expr).to_series()
    on_null = pl.Series(name, [None], pl.String).to_frame().select(expr).item()
    return (
        pl.when(pl.col(name).is_null())
        .then(pl.lit(on_null, dtype))
        .otherwise(pl.col(name).cast(pl.String).replace_strict(values, results, return_dtype=dtype))
    )


def _nfkc(column: pl.Series) -> pl.Series:
    """NFKC of the values that have a non-ASCII character; ASCII is its own NFKC.

    Ids are nearly all ASCII, and NFKC over a million of them cost more than
    finding the few that need it.
    """
    wide = (column.str.len_bytes() != column.str.len_chars()).fill_null(False)
    return on_subset(column, wide, lambda v: v.str.normalize("NFKC"))


def _blank_is_null(name: str) -> pl.Expr:
    value = pl.col(name)
    return pl.when(value.str.strip_chars(EDGES) == "").then(None).otherwise(value).alias(name)


def _name_keys(names: pl.Series) -> pl.DataFrame:
    keys = names.to_frame().with_columns(name_plain(pl.col("name")).alias("name_plain"))
    return keys.with_columns(fold_variants(keys["name_plain"]).alias("name_key"))


def _kana_keys(kana: pl.Series) -> pl.DataFrame:
    keys = kana.to_frame().with_columns(kana_plain(pl.col("name_kana")).alias("kana_plain"))
    return keys.with_columns(fold_small_kana(pl.col("kana_plain")).alias("kana_key"))


def _comparison_keys(frame: pl.DataFrame, lookups: Lookups) -> pl.DataFrame:
    names = lookups.table("name", frame.get_column("name").drop_nulls().unique(), _name_keys)
    kana = lookups.table("kana", frame.get_column("name_kana").drop_nulls().unique(), _kana_keys)
    # Joined one column at a time and the keys added beside it: a join of the
    # whole frame gathers every one of its columns again.
    return frame.with_columns(
        *frame.select("name")
        .join(names, on="name", how="left", maintain_order="left")
        .drop("name")
        .get_columns(),
        *frame.select("name_kana")
        .join(kana, on="name_kana", how="left", maintain_order="left")
        .drop("name_kana")
        .get_columns(),
        # Ids are compared after NFKC so that full-width digits still link a household.
        _nfkc(frame.get_column("employee_id")).alias("employee_key"),
        address_key(frame["address"], lookups).alias("address_key"),
    )


def _roster_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """member_id = 記号-番号-枝番; the household (世帯) is 記号-番号.

    An empty part stays an empty part (`-1001-00`), so that rows missing their
    記号 never merge with rows missing their 番号.
    """
    symbol, number, branch = (
        pl.lit(_nfkc(frame.get_column(c))).fill_null("") for c in ("symbol", "number", "branch")
    )
    household = pl.concat_str([symbol, number], separator="-")
    return frame.with_columns(
        household.alias("household_id"),
        pl.concat_str([household, branch], separator="-").alias("member_id"),
        # Per distinct value: a roster has one insurer number, or a few.
        _per_distinct(
            frame.get_column("insurer_number"),
            insurer_check_ok(pl.col("insurer_number")),
            pl.Boolean(),
        ).alias("insurer_check_ok"),
    )


def _filing_number(frame: pl.DataFrame) -> pl.DataFrame:
    """Check the My Number, then keep only what later steps need, never the number.

    Duplicates and conflicts need equality only, so the number becomes a
    128-bit keyed hash (seeds drawn per run and never stored), kept as two
    64-bit halves in a struct: DuckDB groups and joins a million of them in
    half the time it took as their 40 characters of text, and holds a third of
    the bytes. Findings need its last four digits and its length. From here on
    no frame and no DuckDB table holds a My Number (SPEC §9).
    """
    # Cleaned once into a column (as an expression it was re-run for every use),
    # and only where it is not already twelve ASCII digits, as nearly all are.
    given = frame.get_column("my_number")
    odd = (~given.str.contains(r"^[0-9]{12}$")).fill_null(False)
    frame = frame.with_columns(
        on_subset(given, odd, lambda v: v.to_frame().select(digits_only("my_number")).to_series())
    )
    cleaned = pl.col("my_number")
    key = pl.struct(high=cleaned.hash(secrets.randbits(64)), low=cleaned.hash(secrets.randbits(64)))
    return frame.with_columns(
        my_number_problem(cleaned).alias("my_number_problem"),
        mask_expr(cleaned).alias("my_number_masked"),
        cleaned.str.len_chars().alias("my_number_length"),
        pl.when(cleaned.is_null() | (cleaned == ""))
        .then(None)
        .otherwise(key)
        .alias("my_number_key"),
    ).drop("my_number")
