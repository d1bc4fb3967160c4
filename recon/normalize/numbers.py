"""Digit columns: insurer number (保険者番号), branch, postal code and My Number.

Check digits are computed digit by digit as polars expressions, so a million
rows cost a few column operations, not a million Python calls.
"""

from __future__ import annotations

import polars as pl

# 総務省令第85号 第5条: weights of the first 11 digits, read left to right.
_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# 保険者番号設定要領 (Luhn): the last body digit is doubled, then alternately ×1, ×2.
_INSURER_WEIGHTS = (2, 1, 2, 1, 2, 1, 2)


def _digit(expr: pl.Expr, i: int) -> pl.Expr:
    return expr.str.slice(i, 1).cast(pl.Int32, strict=False)


def digits_only(column: str) -> pl.Expr:
    """NFKC, then spaces and hyphens removed: `１２３４ ５６７８－９０１８` -> `123456789018`."""
    return pl.col(column).str.normalize("NFKC").str.replace_all(r"[\s\-‐‑‒–—―−ー]", "")


def my_number_check_ok(expr: pl.Expr) -> pl.Expr:
    """True when a string of twelve ASCII digits carries the right check digit.

    Anything else gives a meaningless answer: `my_number_problem` checks the
    shape first. Integer arithmetic on the number as a whole: twelve string
    slices per row were most of normalizing the filings (polars re-evaluates
    `number` for every digit, so it is kept to one cast).
    """
    number = expr.cast(pl.Int64, strict=False)
    body = number // 10
    total = pl.sum_horizontal(
        (body // 10 ** (10 - i)) % 10 * w for i, w in enumerate(_MY_NUMBER_WEIGHTS)
    )
    # 11 - remainder, where a remainder of 0 or 1 gives 0.
    return (11 - total % 11) % 11 % 10 == number % 10


def insurer_check_ok(expr: pl.Expr) -> pl.Expr:
    """True when an 8-digit insurer number carries the right Luhn check digit.

    Null for anything that is not eight ASCII digits (`000000;1`): validation
    reports that as `input.invalid_value`, and a check digit computed from the
    digits that happen to be there would add a `roster.insurer_number` finding
    about a number nobody wrote (sum_horizontal skips the nulls of non-digits).
    """
    products = [_digit(expr, i) * w for i, w in enumerate(_INSURER_WEIGHTS)]
    total = pl.sum_horizontal((p // 10) + (p % 10) for p in products)
    return pl.when(expr.str.contains(r"^[0-9]{8}$")).then((10 - total % 10) % 10 == _digit(expr, 7))


def my_number_problem(cleaned: pl.Expr) -> pl.Expr:
    """Why a cleaned My Number is unusable, or null when it is a valid number.

    Never repaired: a spreadsheet that dropped a leading zero or wrote
    `1.23457E+11` lost information only the employer can restore.
    """
    return (
        pl.when(cleaned.is_null() | (cleaned == ""))
        .then(pl.lit("empty"))
        .when(cleaned.str.contains(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$"))
        .then(pl.lit("exponent"))
        .when(cleaned == "000000000000")
        .then(pl.lit("placeholder"))
        .when(cleaned.str.contains(r"^[0-9]{11}$"))
        .then(pl.lit("lost_leading_zero"))
        .when(~cleaned.str.contains(r"^[0-9]{12}$"))
        .then(pl.lit("length"))
        .when(~my_number_check_ok(cleaned))
        .then(pl.lit("check_digit"))
    )


def padded_digits(column: str, width: int, *, strip: str = "") -> pl.Expr:
    """Digits, with the one leading zero a spreadsheet drops put back.

    Excel turns `06139919` into `6139919` and a postal code `0600001` into
    `600001`: exactly one digit short. Only a bare number lost its zero: one
    written with a separator (`060-001`) was text to the spreadsheet, so a digit
    missing there is a typo. Anything else is kept as given, so validation
    reports it instead of a guess repairing it.
    """
    given = pl.col(column).str.normalize("NFKC").str.strip_chars()
    digits = given.str.replace_all(f"[{strip}]", "") if strip else given
    return (
        pl.when(digits.str.contains(f"^[0-9]{{{width}}}$"))
        .then(digits)
        .when(given.str.contains(f"^[0-9]{{{width - 1}}}$"))
        .then(pl.lit("0") + given)
        .otherwise(pl.col(column).str.strip_chars())
    )
