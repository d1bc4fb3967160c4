"""Code columns: Japanese words or English codes -> the English code (SPEC §3).

A value that maps to no code is kept as given, so validation can report it.
"""

from __future__ import annotations

import polars as pl

from recon.columns import Kind

# English code -> the spellings seen in exports (folded: NFKC, lower case).
CODES: dict[Kind, dict[str, tuple[str, ...]]] = {
    "sex": {
        "1": ("1", "男", "男性", "m", "male"),
        "2": ("2", "女", "女性", "f", "female"),
        "3": ("3", "未設定", "unset"),  # never counts as a mismatch
    },
    "yes_no": {
        "yes": ("yes", "y", "true", "1", "はい", "有", "あり", "済", "登録済", "○", "〇"),
        "no": ("no", "n", "false", "0", "いいえ", "無", "なし", "未", "未登録", "×"),
    },
    "residence": {"domestic": ("domestic", "国内"), "overseas": ("overseas", "海外")},
    "overseas_type": {
        "posted_alone": ("posted_alone", "単身赴任"),  # family stays in Japan
        "single": ("single", "単身", "独身"),
        "family_accompanied": ("family_accompanied", "家族帯同", "帯同"),
    },
    "card_status": {
        "held": ("held", "保有", "有"),
        "none": ("none", "未取得", "無"),
        "lost": ("lost", "紛失"),
        "renewing": ("renewing", "更新中"),
        "returned": ("returned", "返納"),
    },
    "relation": {
        "self": ("self", "本人", "被保険者"),
        "spouse": ("spouse", "配偶者", "妻", "夫"),
        "child": ("child", "子", "実子", "養子", "長子"),
        "parent": ("parent", "父", "母", "義父", "義母", "養父", "養母", "実父", "実母"),
        "other": ("other",),
    },
}

# 長男, 次女, 三男 … are children: written out on the 被扶養者届.
_BIRTH_ORDER_CHILD = r"^(長|次|二|三|四|五|六|七|八|九|十)(男|女)$"

# Values a column takes when the cell is empty (SPEC §3.1 defaults).
DEFAULTS: dict[str, str] = {"residence": "domestic", "myna_opt_out": "no", "needs_assistance": "no"}


def _fold(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKC").str.strip_chars().str.to_lowercase()


def code_expr(column: str, kind: Kind) -> pl.Expr:
    """The column mapped to its English code; unknown values kept as given."""
    lookup = {spelling: code for code, spellings in CODES[kind].items() for spelling in spellings}
    folded = _fold(pl.col(column))
    mapped = folded.replace_strict(lookup, default=None, return_dtype=pl.String)
    if kind == "relation":
        # SPEC: `other` is anything else; only an empty cell is invalid.
        mapped = (
            pl.when(mapped.is_not_null())
            .then(mapped)
            .when(folded.str.contains(_BIRTH_ORDER_CHILD))
            .then(pl.lit("child"))
            .when(folded.is_not_null())
            .then(pl.lit("other"))
        )
    given = pl.col(column).str.strip_chars()
    out = pl.when(mapped.is_not_null()).then(mapped).otherwise(given)
    if column in DEFAULTS:
        out = pl.when(given.is_null()).then(pl.lit(DEFAULTS[column])).otherwise(out)
    return out.alias(column)
