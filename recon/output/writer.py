"""Every file of a run into its (staging) folder, each proven once written.

The model is built once (`model.build`); the CSV files, summary.json and
report.html are rendered from it. Sections only some runs have (the gate's
waivers) come in as `sections` and are rendered into the page with the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from recon import explain, proof
from recon.masking import safe_frame, scrub_json, written_findings
from recon.output import html, tables
from recon.output.model import DOCS_INDEX, Run, RunResult, build


def write(
    result: RunResult, folder: Path, lang: str = "ja", sections: Sequence[html.Section] = ()
) -> Run:
    """Every file of the report into `folder` (the staging folder), each proven.

    Great Expectations may still be validating the run (`pipeline.Result`): the
    files that need none of its outcome (the member table, the envelopes, the
    lists) are written first, beside it, and the model of the run is built
    once it has finished. A failed proof raises `InvariantError` before the
    pipeline renames the folder into place, so the previous report stays.
    """
    folder.mkdir(parents=True, exist_ok=True)
    assert result.members is not None, "the output layer writes runs with decisions"
    # Scrubbed once: the lists, findings.csv and the page all quote them.
    found = written_findings(result.found)
    # polars groups the envelopes while the member table is written beside them;
    # Great Expectations renders its Data Docs in Python as soon as it has
    # validated, beside the lists; and each file is proven (`recon.proof`) as soon
    # as it is written, beside the next one's work. Leaving the `with` waits for
    # all, so that an error or an interrupt never leaves a file half written
    # after a rollback.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="recon-write") as pool:
        docs_written = pool.submit(_write_docs, result, folder)
        m = tables.with_findings(result.members, found, lang)
        envelopes_written = pool.submit(tables.write_mailing, m, lang, folder)
        members = safe_frame(tables.members_frame(result.members))  # ids and codes only
        members.write_csv(folder / "members.csv")
        del members
        # The lists only after the envelopes: both at once raised the peak by 0.5 GB at 5M.
        envelopes, ready = envelopes_written.result()
        proven = [
            pool.submit(
                proof.members_written_once, result.members["member_id"], folder / "members.csv"
            ),
            pool.submit(
                proof.envelopes_name_households,
                result.members["household_id"],
                folder / "mailing.csv",
                lang,
            ),
        ]
        lists = tables.write_lists(m, lang, folder)
        del m
        # The members the page lists, explained from the run in memory by the same code
        # that writes the explain folder (`recon explain` reads it): the page says the same.
        explained = explain.explanations(result, found, tables.explained_rows(lists))  # type: ignore[arg-type]

        run = build(result, found)  # waits for Great Expectations
        # The details were scrubbed once: above, and GX's in `build`.
        safe_frame(tables.findings_frame(run)).write_csv(folder / "findings.csv")
        write_summary(run, folder)
        proven.append(pool.submit(proof.findings_and_counts, run, folder))
        page = html.Page(
            run=run,
            checks=html.check_rows(run, lang),
            lists=lists,
            envelopes=envelopes,
            envelopes_ready=ready,
            sections=tuple(sections),
            explained=tuple(explained),
        )
        (folder / html.REPORT_HTML).write_text(html.render(page, lang), encoding="utf-8")
        # A failed proof raises here, after GX's Data Docs: the first claim first.
        docs_written.result()
        for claim in proven:
            claim.result()
    return run


def _write_docs(result: RunResult, folder: Path) -> None:
    """GX's Data Docs, once GX has validated the run (waited for on this thread)."""
    quality = result.quality_aside()
    if quality is not None:
        quality.write_docs(folder / Path(DOCS_INDEX).parent)


def write_summary(run: Run, folder: Path) -> None:
    """summary.json; its free text (paths, policy values) is scrubbed again, the hashes kept."""
    document = scrub_json(run.summary.as_json(), keep=frozenset({"sha256"}))
    (folder / "summary.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
