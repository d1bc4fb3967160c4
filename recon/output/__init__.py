"""Writing a run: one layer from the run's typed model to its files.

- `model`: the typed model of a run (inputs, findings, decisions, summary).
- `tables`: the CSV files, the per-audience lists and the envelopes.
- `html`: report.html from Jinja2 templates (`templates/`), with sections
  (the gate's waivers, `recon explain`'s) given to the render as inputs.
- `writer`: all of them into the staging folder, then `recon.proof`.

The pipeline calls `write`; the gate builds its `Section` with
`waivers_section`. Nothing here imports the command line (`recon.cli`,
`recon.commands`): tests/test_layers.py holds it to that.
"""

from __future__ import annotations

import polars as pl

from recon.masking import safe_frame
from recon.output.html import Section, waivers_section
from recon.output.tables import excel_csv, neutralized
from recon.output.writer import write
from recon.texts import text
from recon.wording import word_expr

__all__ = ["Section", "excel_csv", "neutralized", "waiver_rows", "waivers_section", "write"]


def waiver_rows(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """`recon.gate.waivers.report_rows` in the page's words, the typed texts scrubbed."""
    return safe_frame(
        rows.select(
            "check",
            pl.coalesce("member_id", "finding").alias("member"),
            "field",
            "reason",
            "approved_by",
            pl.col("expires_on").cast(pl.String),
            "status",
            pl.concat_str(
                word_expr("status", "waiver_status", lang),
                pl.when(pl.col("note").fill_null("") != "").then(
                    pl.format(
                        text("report.page.waivers.note", lang),
                        word_expr("note", "waiver_note", lang),
                    )
                ),
                ignore_nulls=True,
            ).alias("status_text"),
            "matched",
        ),
        free_text=("reason", "approved_by"),
    )
