"""Detection accuracy: `findings.csv` against the generator's `truth.csv`, per check code.

A finding and a truth row are the same when check, source, row and member_id
agree, so a filing matched to the wrong member counts as a miss and a false
alarm. A member_id the run masked (`********0212-01`: SPEC §9 forbids it, and
the figures say how many) is compared on check, source and row, so that
detection and masking are reported apart. Checks outside SPEC §5 (the Great
Expectations suite's `gx.*`) are not scored: no truth speaks of them.
"""

from __future__ import annotations

import polars as pl

from recon.findings import catalog

KEY = ["check", "source", "row", "member_id"]

# SPEC §5, in its order (the catalog's): the codes scored. A missing column stops
# the run, so it has no finding to score.
SPEC_CHECKS = tuple(c.code for c in catalog() if c.code != "input.missing_column")
# Comparisons of free text: the bar is 0.99, the others must be exact.
FUZZY = ("match.name", "match.name_kana", "match.address", "match.identity", "match.name_variant")


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("check").cast(pl.String),
        pl.col("source").cast(pl.String),
        pl.col("row").cast(pl.Int64),
        pl.col("member_id").cast(pl.String).fill_null(""),
    ).unique()


def _unmasked(found: pl.DataFrame, expected: pl.DataFrame) -> pl.DataFrame:
    """Masked member ids replaced by the truth's id on the same check, source and row."""
    masked = pl.col("member_id").str.contains("*", literal=True)
    place = ["check", "source", "row"]
    truth_ids = expected.group_by(place).agg(pl.col("member_id").first().alias("truth_id"))
    found = found.join(truth_ids, on=place, how="left", maintain_order="left")
    return found.select(
        *place,
        pl.when(masked & pl.col("truth_id").is_not_null())
        .then(pl.col("truth_id"))
        .otherwise(pl.col("member_id"))
        .alias("member_id"),
    ).unique()


def score(findings: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """One row per SPEC check: expected, found, tp, fp, fn, precision, recall, masked."""
    scored = findings.filter(pl.col("check").is_in(SPEC_CHECKS))
    masked = (
        _keys(scored)
        .filter(pl.col("member_id").str.contains("*", literal=True))
        .group_by("check")
        .len("masked")
    )
    expected = _keys(truth)
    found = _unmasked(_keys(scored), expected)
    tp = found.join(expected, on=KEY, how="semi").group_by("check").len("tp")
    fp = found.join(expected, on=KEY, how="anti").group_by("check").len("fp")
    fn = expected.join(found, on=KEY, how="anti").group_by("check").len("fn")
    table = pl.DataFrame({"check": SPEC_CHECKS})
    for part in (tp, fp, fn, masked):
        table = table.join(part, on="check", how="left")
    table = table.with_columns(pl.col("tp", "fp", "fn", "masked").fill_null(0).cast(pl.Int64))
    return table.select(
        "check",
        (pl.col("tp") + pl.col("fn")).alias("expected"),
        (pl.col("tp") + pl.col("fp")).alias("found"),
        "tp",
        "fp",
        "fn",
        # Nothing expected and nothing found is perfect, not undefined.
        pl.when(pl.col("tp") + pl.col("fp") == 0)
        .then(1.0)
        .otherwise(pl.col("tp") / (pl.col("tp") + pl.col("fp")))
        .alias("precision"),
        pl.when(pl.col("tp") + pl.col("fn") == 0)
        .then(1.0)
        .otherwise(pl.col("tp") / (pl.col("tp") + pl.col("fn")))
        .alias("recall"),
        "masked",
    )


# What the truth expects on a filing row that carries no defect: benign variation
# that is still worth an info finding.
BENIGN_CHECKS = ("match.name_variant",)


def benign_by_check(findings: pl.DataFrame, truth: pl.DataFrame, severity: pl.Expr) -> pl.DataFrame:
    """match.* warnings and errors on filing rows where no defect was injected, per check.

    A row whose only expected finding is benign (match.name_variant: variant
    kanji, small kana) is such a row too: a mismatch there is a false alarm.
    """
    mismatches = findings.filter(pl.col("check").str.starts_with("match.") & severity)
    flagged = _keys(mismatches)
    defects = truth.filter((pl.col("source") == "filings") & ~pl.col("check").is_in(BENIGN_CHECKS))
    defective = _keys(defects).select("source", "row").unique()
    benign = flagged.join(defective, on=["source", "row"], how="anti")
    return benign.group_by("check").len("flagged").sort("check")


def benign_flagged(findings: pl.DataFrame, truth: pl.DataFrame, severity: pl.Expr) -> int:
    """How many match.* warnings and errors fell on rows where no defect was injected."""
    return int(benign_by_check(findings, truth, severity)["flagged"].sum())


def failures(table: pl.DataFrame) -> list[str]:
    """The checks below their target (1.0 for deterministic checks, 0.99 for text
    ones) or whose findings masked a member_id."""
    out = []
    for row in table.iter_rows(named=True):
        if row.get("masked"):
            out.append(f"{row['check']}: {row['masked']} member_id masked (SPEC §9 forbids it)")
        bar = 0.99 if row["check"] in FUZZY else 1.0
        if row["precision"] < bar or row["recall"] < bar:
            out.append(
                f"{row['check']}: precision {row['precision']:.4f}, recall {row['recall']:.4f}"
            )
    return out
