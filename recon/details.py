"""A finding's `detail`, written from its values in the operator's language.

The SQL stages (sql/08_input_finding.sql, sql/09_finding.sql) give every
finding a detail kind and the values its sentence quotes (`detail_v1` …
`detail_v6`, text); the sentence of each kind is the catalog's
(recon/texts/details.toml), in Japanese or English. The values are filled in
per kind, for all findings of that kind at once (one polars expression each,
a few dozen kinds): a million findings never pass through Python one by one.

Codes are shown as words (sex 1 and 2 as 男 and 女, overseas types as the
report names them); dates, ids and masked numbers as the SQL gives them.
"""

from __future__ import annotations

import string

import polars as pl

from recon import texts
from recon.wording import words

KIND = "detail_kind"
VALUES = tuple(f"detail_v{i}" for i in range(1, 7))
# A detail quotes values as given; a 1 MB cell must not make a 1 MB finding.
DETAIL_LIMIT = 300

# The values of each kind's sentence, in the order of detail_v1, detail_v2, ...
FIELDS: dict[str, tuple[str, ...]] = {
    "duplicate_member": ("member_id", "rows"),
    "insurer_check_digit": ("number",),
    "no_insured": ("household", "count"),
    "my_number.empty": (),
    "my_number.placeholder": (),
    "my_number.exponent": (),
    "my_number.lost_leading_zero": (),
    "my_number.length": ("length",),
    "my_number.check_digit": ("number",),
    "my_number.duplicate": ("number", "count", "members"),
    "my_number.conflict": ("member_id", "count", "number"),
    "orphan.no_employee_id": (),
    "orphan.no_candidate": ("employee_id",),
    "orphan.none_match": ("employee_id", "count"),
    "filing_missing": (),
    "birth_date": ("roster", "filed"),
    "sex": ("roster", "filed"),
    "name": ("roster", "filed"),
    "name_kana": ("roster", "filed"),
    "address": ("roster", "filed"),
    "overseas.no_designated_address": ("overseas_type",),
    "overseas.unknown_type": (),
    "overseas.emigrated_before_2015": ("date",),
    "overseas.never_registered": (),
    "overseas.born_abroad": ("date",),
}
# Kinds listing the pairs that differ: (lead, the parts in the order of the value pairs).
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "identity": ("identity.lead", ("name", "name_kana", "address")),
    "variant": ("variant.lead", ("name", "name_kana")),
}
# Validation's details come written in the chosen language (recon/validate.py).
GIVEN = "given"


def _words(kind: str, lang: str) -> dict[str, str]:
    if kind == "sex":
        return {code: texts.text(f"details.sex_word.{code}", lang) for code in ("1", "2", "3")}
    return words(kind, lang)


# Values shown as words rather than codes, by kind and field.
_AS_WORDS = {("sex", "roster"): "sex", ("sex", "filed"): "sex"}
_AS_WORDS[("overseas.no_designated_address", "overseas_type")] = "overseas_type"
# Kinds whose side may be unreadable (nulled by validation, sql/07_match_compare.sql):
# a missing value is said as such, in the operator's language.
_MAY_BE_UNREADABLE = frozenset({"birth_date", "sex"})


def sentence(template: str, values: dict[str, pl.Expr]) -> pl.Expr:
    """`template` ("生年月日が異なります（台帳 {roster}／届出 {filed}）") with its
    `{names}` filled from `values`: one expression, empty when a value is."""
    pieces: list[pl.Expr] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append(pl.lit(literal))
        if name:
            pieces.append(values[name])
    return pl.concat_str(pieces) if pieces else pl.lit("")


def _kind_expr(kind: str, lang: str) -> pl.Expr:
    if kind == GIVEN:
        return pl.col(VALUES[0])
    if kind in LISTS:
        lead, parts = LISTS[kind]
        pairs = [
            sentence(
                texts.text(f"details.part.{part}", lang),
                {"roster": pl.col(VALUES[2 * i]), "filed": pl.col(VALUES[2 * i + 1])},
            )
            for i, part in enumerate(parts)
        ]
        listed = pl.concat_str(
            pairs, separator=texts.text("details.part.separator", lang), ignore_nulls=True
        )
        return pl.lit(texts.text(f"details.{lead}", lang)) + listed
    values = {}
    for field, column in zip(FIELDS[kind], VALUES, strict=False):
        value = pl.col(column)
        if (kind, field) in _AS_WORDS:
            value = value.replace(_words(_AS_WORDS[kind, field], lang))
        if kind in _MAY_BE_UNREADABLE:
            value = value.fill_null(pl.lit(texts.text("details.unreadable", lang)))
        values[field] = value
    return sentence(texts.entry_of(f"details.{kind}")[lang], values)


def render(findings: pl.DataFrame, lang: str | None = None) -> pl.DataFrame:
    """The SQL stages' findings with `detail` in `lang` (default: the chosen
    language) in place of the kind and values, in the same row order."""
    lang = lang or texts.current()
    helpers = [KIND, *VALUES]
    at = findings.columns.index(KIND)
    order = [
        *findings.columns[:at],
        "detail",
        *(c for c in findings.columns[at:] if c not in helpers),
    ]
    if findings.is_empty():
        return findings.with_columns(detail=pl.lit(None, pl.String)).select(order)
    indexed = findings.with_row_index("_row_of_finding")
    written = [
        part.with_columns(detail=_kind_expr(kind, lang))
        for (kind,), part in indexed.group_by(KIND, maintain_order=True)
    ]
    detail = pl.col("detail")
    return (
        pl.concat(written)
        .sort("_row_of_finding")
        .with_columns(
            detail=pl.when(detail.str.len_chars() > DETAIL_LIMIT)
            .then(detail.str.slice(0, DETAIL_LIMIT) + pl.lit("…"))
            .otherwise(detail)
        )
        .select(order)
    )
