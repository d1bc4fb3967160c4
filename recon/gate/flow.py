"""The gate's steps in order; `recon/commands/gate.py` only parses options and prints.

1. Key, waivers and baseline are read first: whatever would keep the gate from
   deciding stops it before the long run (exit 2).
2. The pipeline runs on the update (and, for `--baseline-ref`, on the inputs
   as they were at that revision, under the same policy and date).
3. Findings get identities and waivers; `compare` decides.
4. The run's folder is written atomically with the gate's files in it
   (`baseline.json` only under a key that outlives the run), then the CI files.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from recon import outdir, output, pipeline, tomlfile
from recon.errors import InputError
from recon.gate import baseline, ci, compare, gitref, jsontext, keys, waivers
from recon.masking import scrub, scrub_json
from recon.policy import Policy, load_policy
from recon.runs import parse_as_of, sample, terminal_progress
from recon.texts import text

GATE_JSON = "gate.json"
GATE_MD = "gate.md"
WAIVERS_CSV = "waivers.csv"


@dataclass
class Request:
    roster: Path | None = None
    filings: Path | None = None
    as_of: str | None = None
    policy: Path | None = None
    out: Path = Path("reports/latest")
    lang: str = "ja"
    memory_limit: str | None = None
    spill_dir: Path | None = None
    baseline: Path | None = None
    baseline_ref: str | None = None
    fail_on: str = "error"
    strict: bool = False
    waivers: Path | None = None
    junit: Path | None = None
    summary: Path | None = None
    key_file: Path | None = None


@dataclass
class Done:
    result: pipeline.Result
    outcome: compare.Outcome
    written: Path
    notes: list[str] = field(default_factory=list)


def inputs(request: Request) -> outdir.Inputs:
    """Every file the gate reads, by its option: no output may land on one."""
    return {
        "--roster": request.roster or sample("roster.csv"),
        "--filings": request.filings or sample("filings.csv"),
        "--policy": request.policy,
        "--waivers": request.waivers,
        "--key-file": request.key_file,
        # The last accepted run: a failed gate written over it would become the next baseline.
        "--baseline": request.baseline,
    }


def check_outputs(request: Request) -> None:
    """Exit 2 before the long run when an output would replace what recon did not write."""
    read = inputs(request)
    outdir.report_folder(request.out, read)
    files = {"--junit": request.junit, "--summary": request.summary}
    for option, path in files.items():
        if path is not None:
            outdir.ci_file(path, option, read, request.out)
    if (
        request.junit
        and request.summary
        and outdir.real(request.junit) == outdir.real(request.summary)
    ):
        raise InputError(
            text(
                "gate.flow.same_ci_file",
                path=request.junit,
                junit=outdir.CI_EXAMPLES["--junit"],
                summary=outdir.CI_EXAMPLES["--summary"],
            )
        )


def run(request: Request, environ: Mapping[str, str] | None = None) -> Done:
    parking = _Parking(request)
    try:
        return _run(request, os.environ if environ is None else environ, parking)
    finally:
        parking.close()


def _run(request: Request, environ: Mapping[str, str], parking: _Parking) -> Done:
    notes: list[str] = []
    if request.baseline is not None and request.baseline_ref is not None:
        raise InputError(text("gate.flow.both_baselines"))
    check_outputs(request)
    key = keys.load_key(request.key_file, dict(environ))
    if request.baseline is not None and key is None:
        raise InputError(keys.missing_key_message("baseline", baseline=request.baseline))
    waiver_list: tuple[waivers.Waiver, ...] = ()
    if request.waivers is not None:
        if request.baseline_ref is not None and not request.waivers.exists():
            # Deleted by this update: its waivers at the revision still mark what they waived.
            notes.append(text("gate.flow.waivers_gone", path=request.waivers))
        else:
            waiver_list = waivers.load(request.waivers)
    if key is None and any(w.finding for w in waiver_list):
        raise InputError(keys.missing_key_message("finding_waiver"))
    base = (
        # A baseline without a key was refused above; `key is not None` says so to the checker.
        baseline.read(request.baseline, key)
        if request.baseline is not None and key is not None
        else None
    )

    policy = load_policy(request.policy)
    as_of = parse_as_of(request.as_of)
    roster = request.roster or sample("roster.csv")
    filings = request.filings or sample("filings.csv")
    work_key = key or keys.ephemeral()
    day = waivers.effective_day(as_of)
    waivers.refuse_beyond(waiver_list, day, policy.certificate_max_years, request.waivers)

    # The revision is read before the long run: a wrong ref stops the gate at once.
    # Its files stay in memory: on disk they would be plain My Numbers a kill -9 leaves.
    # It is analysed first, to its findings only, and only its snapshot is kept, so
    # that the update's run never shares the memory with the revision's rows.
    if request.baseline_ref is not None:
        paths = {"roster": roster, "filings": filings, "waivers": request.waivers}
        at_ref = gitref.files_at(request.baseline_ref, paths)
        base = _base_at(request, at_ref, policy, as_of, work_key, day, notes, parking)
        del at_ref  # the revision's bytes (plain My Numbers) are freed before the update's run
    needs_snapshot = key is not None or base is not None
    with parking.away(base, on_disk=("members",), compressed=("findings",)):
        result, rows = _analyse(
            request, roster, filings, policy, as_of, work_key, needs_snapshot, parking
        )

    findings = baseline.identify(result.findings, rows, work_key)
    findings, statuses = waivers.apply(findings, waiver_list, day)
    current = baseline.snapshot(as_of, work_key, findings, rows) if needs_snapshot else None
    del rows
    outcome = compare.compare(findings, statuses, base, current, request.fail_on, request.strict)
    # The revision's snapshot (5M members' tags) is not held through the reports' writing.
    del base, findings
    if key is None:
        notes.append(text("gate.flow.no_key", env=keys.ENV))
    # Paths and notes are the free text of the gate's files: scrubbed here, once
    # (the files themselves are not scrubbed whole: they name members by id).
    outcome.context = scrub_json(
        {
            "roster": str(roster),
            "filings": str(filings),
            "as_of": as_of.isoformat(),
            "waivers_judged_on": day.isoformat(),
            "notes": notes,
        }
    )

    # The baseline is written before the run's report, and the members' tags freed: at 5M
    # members they stood beside the report's own peak (sealed files are moved in after it).
    sealed = None
    if key is not None and current is not None:
        sealed = parking.folder()
        baseline.write(current, key, sealed)
    del current

    _return_freed_memory()
    sections = report_sections(outcome, request.lang, request.waivers)
    # The gate's findings (their ids, anchors and verdicts) wait compressed through the
    # report's writing, whose peak is the gate's last; its own files come after it.
    with parking.away(outcome, compressed=("findings",)) as back:

        def gate_files(folder: Path) -> None:
            back()
            write_folder(folder, outcome, sealed, request.lang)

        written = pipeline.write(
            result,
            request.out,
            request.lang,
            extra=[gate_files],
            inputs=inputs(request),
            sections=sections,
        )
    return Done(result, outcome, written, notes)


def _return_freed_memory() -> None:
    """glibc keeps freed heap for reuse; the report's peak would stand on top of it."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class _Parking:
    """What the gate holds, put out of `recon run`'s way while its peaks pass.

    At 5M members the gate held ≈ 1.5 GB beside the run's analysis and its report
    (the members' tags, the filings' identities, the revision's snapshot). Tags and
    ids (what `baseline-members.csv` holds anyway) go to an owner-only folder beside
    the report's, named with the pid (`outdir.remove_dead` clears a killed gate's);
    what holds names or dates stays in memory, compressed.
    """

    PREFIX = ".{}.gate-"

    def __init__(self, request: Request) -> None:
        self.request = request
        self._folder: Path | None = None
        self._count = 0

    def folder(self) -> Path:
        if self._folder is None:
            target = outdir.report_folder(self.request.out, inputs(self.request))
            target.parent.mkdir(parents=True, exist_ok=True)
            prefix = self.PREFIX.format(target.name)
            outdir.remove_dead(target.parent, prefix)
            made = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=target.parent)
            self._folder = Path(made)
        return self._folder

    @contextmanager
    def away(self, holder: object, on_disk: tuple[str, ...] = (), compressed: tuple[str, ...] = ()):
        """`holder`'s frames named here are None inside the block, and back after it (or
        once the block calls what it is given)."""
        parked: dict[str, Path | io.BytesIO] = {}

        def back() -> None:
            while parked:
                name, place = parked.popitem()
                if isinstance(place, Path):
                    setattr(holder, name, pl.read_ipc(place))
                    place.unlink()
                else:
                    place.seek(0)
                    setattr(holder, name, pl.read_ipc(place))

        try:
            for name in (*on_disk, *compressed) if holder is not None else ():
                frame = getattr(holder, name)
                if frame is None:
                    continue
                if name in on_disk:
                    self._count += 1
                    place: Path | io.BytesIO = self.folder() / f"parked-{self._count}.arrow"
                    frame.write_ipc(place, compression="uncompressed")
                else:
                    place = io.BytesIO()
                    frame.write_ipc(place, compression="zstd")
                parked[name] = place
                setattr(holder, name, None)
                del frame
            yield back
        finally:
            back()

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _analyse(
    request: Request,
    roster,
    filings,
    policy,
    as_of,
    key: keys.Key,
    fingerprint: bool,
    parking: _Parking,
    *,
    scope: pipeline.Scope = "decisions",
) -> tuple[pipeline.Result, baseline.Rows]:
    """The pipeline's result, and what the gate keeps of its rows (`baseline.keep`),
    parked while the pipeline runs on."""
    kept: list[baseline.Rows] = []
    away = ExitStack()

    def on_rows(roster_rows: pl.DataFrame, filing_rows: pl.DataFrame) -> None:
        # A revision's bytes (1.2 GB at 5M members, plain My Numbers) are read by now:
        # freed here, not at the end of its analysis, whose peak they stood beside.
        for content in (roster, filings):
            if isinstance(content, pipeline.Content):
                content.release()
        kept.append(baseline.keep(roster_rows, filing_rows, key, fingerprint=fingerprint))
        away.enter_context(parking.away(kept[0], on_disk=("members",), compressed=("filings",)))

    with away, terminal_progress() as progress:
        result = pipeline.analyse(
            roster,
            filings,
            policy,
            as_of,
            scope=scope,
            on_rows=on_rows,  # the rows themselves are freed as in `recon run`
            progress=progress,
            memory_limit=request.memory_limit,
            spill_dir=request.spill_dir,
        )
    return result, kept[0]


def _base_at(
    request: Request,
    found: dict[str, pipeline.Content | None],
    policy: Policy,
    as_of: dt.date,
    key: keys.Key,
    day: dt.date,
    notes: list[str],
    parking: _Parking,
) -> baseline.Snapshot | None:
    """The snapshot of the same files at `--baseline-ref`, under the same policy and date.

    Analysed to the findings (scope "findings": matched, but no decisions, so no
    Great Expectations either): the comparison needs the findings and the roster
    rows only. The update's
    `gx.*` findings therefore have nothing to be compared with and count as new
    (`Snapshot.quality_judged`): stricter, never looser.
    """
    ref = request.baseline_ref
    if found["roster"] is None or found["filings"] is None:
        notes.append(text("gate.flow.ref_without_inputs", ref=ref))
        return None
    try:
        base_waivers = _waivers_in(found["waivers"]) if found["waivers"] else ()
    except InputError as exc:
        notes.append(text("gate.flow.ref_waivers_unreadable", ref=ref, error=exc))
        base_waivers = ()
    try:
        result, rows = _analyse(
            request,
            found["roster"],
            found["filings"],
            policy,
            as_of,
            key,
            True,
            parking,
            scope="findings",
        )
    except InputError as exc:
        # Stricter, never looser: without a baseline every finding counts as new.
        notes.append(text("gate.flow.ref_inputs_unreadable", ref=ref, error=exc))
        return None
    findings = baseline.identify(result.findings, rows, key)
    findings, _ = waivers.apply(findings, base_waivers, day)
    snap = baseline.snapshot(as_of, key, findings, rows)
    snap.origin = f"{ref} (git)"
    snap.quality_judged = False
    return snap


def _waivers_in(content: pipeline.Content) -> tuple[waivers.Waiver, ...]:
    """`waivers.load` on a waivers file held in memory."""
    document = tomlfile.loads(content.data, content.name, "waivers")
    return waivers.parse(document, str(content.name))


# --- the files ---------------------------------------------------------------------


def gate_document(outcome: compare.Outcome) -> Iterator[str]:
    """`gate.json`: the decision, for tools (and the lead's report), as pieces of text.

    The findings, resolved findings and waivers are encoded by polars (`jsontext`):
    as Python dicts, 800,000 findings took gigabytes at the end of a 5M gate.
    """
    keep = ["finding_id", "check", "severity", "member_id", "source", "row", "field", "anchor"]
    findings = outcome.findings.select(
        *keep, "status", "waived", "waiver", "waiver_state", "blocking", "why"
    )
    listed = {
        jsontext.Spliced("findings"): jsontext.records(findings, 1),
        jsontext.Spliced("resolved"): jsontext.records(outcome.resolved.drop("count"), 1),
        jsontext.Spliced("waivers"): jsontext.records(
            waivers.report_rows(outcome.waivers).with_columns(pl.col("expires_on").cast(pl.String)),
            1,
        ),
    }
    document = {
        "verdict": "pass" if outcome.passed else "fail",
        "fail_on": outcome.fail_on,
        "strict": outcome.strict,
        "baseline": outcome.baseline,
        **{k: v for k, v in outcome.context.items()},
        "counts": {s: outcome.count(s) for s in (compare.NEW, compare.OPEN, compare.RESOLVED)}
        | {"blocking": outcome.blocking.height},
        **{spliced.name: spliced for spliced in listed},
        "roster_diff": outcome.diff.as_dict() if outcome.diff is not None else None,
    }
    return jsontext.pieces(document, listed, default=str)


def report_sections(
    outcome: compare.Outcome, lang: str, waivers_file: Path | None
) -> tuple[output.Section, ...]:
    """The gate's sections of report.html: its waivers whenever it was given a waivers
    file, even one that holds none (or that this update deleted)."""
    if waivers_file is None:
        return ()
    rows = output.waiver_rows(waivers.report_rows(outcome.waivers), lang)
    section = output.waivers_section(
        rows,
        lang,
        source=scrub(str(waivers_file)),
        judged_on=outcome.context.get("waivers_judged_on", ""),
        csv=WAIVERS_CSV if outcome.waivers else None,
    )
    return (section,)


def write_folder(
    folder: Path,
    outcome: compare.Outcome,
    sealed: Path | None,
    lang: str,
) -> None:
    """The gate's files inside the run's (staging) folder (its waivers are in report.html
    through `report_sections`).

    `sealed`: the folder `baseline.write` wrote the baseline into; its files are moved in.
    """
    with (folder / GATE_JSON).open("w", encoding="utf-8") as handle:
        handle.writelines(gate_document(outcome))
    (folder / GATE_MD).write_text(ci.markdown(outcome, lang), encoding="utf-8")
    if outcome.waivers:
        rows = waivers.report_rows(outcome.waivers)
        output.excel_csv(rows, folder / WAIVERS_CSV)  # masked, formulas neutralized
    if sealed is not None:
        for name in (baseline.MEMBERS_FILE, baseline.FILE):
            os.replace(sealed / name, folder / name)


def publish(request: Request, outcome: compare.Outcome, environ: Mapping[str, str]) -> list[str]:
    """JUnit, the Markdown summary and the annotations; returns the annotation lines."""
    if request.junit is not None:
        _write_private(request, "--junit", ci.junit_xml(outcome, request.lang))
    summary = ci.markdown(outcome, request.lang)
    if request.summary is not None:
        _write_private(request, "--summary", summary)
    _append_step_summary(environ, summary)
    if environ.get("GITHUB_ACTIONS") == "true":
        return ci.annotation_lines(outcome, request.lang)
    return []


def undecided(request: Request, message: str, environ: Mapping[str, str]) -> list[str]:
    """When the gate cannot decide, CI still gets a file that says so (best effort).

    `message`: the error as `recon.masking.error_text` gives it. Never over a
    file recon may not write: a `--junit` naming the roster is one of the
    reasons the gate could not decide.
    """
    summary = ci.undecided_markdown(message, request.lang)
    files = {"--junit": ci.undecided_junit(message), "--summary": summary}
    for option, content in files.items():
        with suppress(OSError, InputError):
            _write_private(request, option, content)
    with suppress(OSError):
        _append_step_summary(environ, summary)
    if environ.get("GITHUB_ACTIONS") == "true":
        return [ci.command("error", message, title=ci.undecided_title(request.lang))]
    return []


def _append_step_summary(environ: Mapping[str, str], text: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def _write_private(request: Request, option: str, text: str) -> None:
    """`--junit` or `--summary`: written whole or not at all, owner-only (it names members).

    Only a new file, or one recon wrote before (it carries `outdir.CI_MARK`),
    is replaced; a symlink's target is written, the link kept.
    """
    given = {"--junit": request.junit, "--summary": request.summary}[option]
    if given is None:
        return
    path = outdir.ci_file(given, option, inputs(request), request.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named with the pid, so that what a kill -9 leaves is removed by the next run.
    temp_prefix = f".{path.name}.tmp-"
    outdir.remove_dead(path.parent, temp_prefix)
    fd, temp = tempfile.mkstemp(prefix=f"{temp_prefix}{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(outdir.with_mark(text))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
