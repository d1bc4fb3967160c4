"""The data's path: read -> normalize -> validate -> match -> decide -> report.

The steps never import each other; this module hands each one the previous
one's output, checks that nothing was lost on the way (conservation), and
writes the outputs atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Generic, Literal, TypeVar

import polars as pl

from recon import (
    decide,
    explain,
    gx_checks,
    match,
    normalize,
    outdir,
    output,
    read,
    stages,
    validate,
)
from recon import findings as findings_contract
from recon.columns import Source
from recon.errors import InputError, InvariantError
from recon.policy import Policy
from recon.signals import keep_ignored, stop_signals
from recon.texts import text

Progress = Callable[[str], None]
T = TypeVar("T")

# How far `analyse` goes:
# - "inputs": each file on its own, nothing matched (`recon check`, SPEC §7);
# - "findings": every finding of SPEC §5, the two files matched (the gate's baseline);
# - "decisions": the findings and the decisions of SPEC §6 (`recon run`, the gate).
Scope = Literal["inputs", "findings", "decisions"]


@dataclass(frozen=True)
class InputFile:
    path: Path
    rows: int  # data rows used: one member or one filing each
    sha256: str
    blank_rows: int = 0  # rows without a single value, set aside
    in_memory: bool = False  # read from `Content`, not from a file on disk


@dataclass(frozen=True)
class Content:
    """An input held in memory only, such as a file at a git revision (`--baseline-ref`).

    It is never written to disk: it holds My Numbers in plain form. `name` is
    how messages and the summary name it (e.g. `origin/main:roster/roster.csv`);
    its suffix tells the format, as a file's would.
    """

    name: Path
    data: bytes = field(repr=False)

    def release(self) -> None:
        """Let go of the bytes once they have been read: a 5M roster at a revision is
        over 1 GB, and the gate frees it before the analysis' peak, not after.
        (Frozen so that nothing changes what was read; emptying is the one change.)"""
        object.__setattr__(self, "data", b"")


@dataclass
class Result:
    as_of: dt.date
    policy: Policy
    roster: InputFile
    filings: InputFile
    # Every finding but Great Expectations' (the inputs', the match's): all there
    # is about a member. `findings` adds GX's once it has finished.
    found: pl.DataFrame
    filing_match: pl.DataFrame | None  # None when nothing was matched (scope "inputs")
    members: pl.DataFrame | None  # None without decisions
    # The validated rows, as later steps saw them (no My Number: see normalize).
    roster_rows: pl.DataFrame | None = None
    filing_rows: pl.DataFrame | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    # (rows, distinct rows) that left validation, per source: conservation's first count.
    validated: dict[str, tuple[int, int]] = field(default_factory=dict)
    conservation: dict[str, int | bool | None] = field(default_factory=dict)  # proven counts
    # With decisions only, each on a thread of its own from the end of `analyse`
    # (`Later`): Great Expectations' outcomes with every finding, GX's last; and
    # the explain folder, encoded for `recon explain`.
    judged: Later[tuple[gx_checks.Quality, pl.DataFrame]] | None = field(default=None, repr=False)
    folder: Later[explain.EncodedFolder] | None = field(default=None, repr=False)

    @property
    def quality(self) -> gx_checks.Quality | None:
        """Great Expectations' outcomes (waits for them); None without decisions."""
        return None if self.judged is None else self._waited_for("gx", self.judged)[0]

    def quality_aside(self) -> gx_checks.Quality | None:
        """`quality`, for a thread working aside the run (GX's Data Docs): it waits
        as long as it must, but that wait costs the run nothing, so `seconds` does
        not count it as `gx.waited`."""
        return None if self.judged is None else self.judged.get(counted=False)[0]

    @property
    def findings(self) -> pl.DataFrame:
        """Every finding, Great Expectations' after the rest (waits for them)."""
        return self.found if self.judged is None else self._waited_for("gx", self.judged)[1]

    @property
    def explain_folder(self) -> explain.EncodedFolder | None:
        return None if self.folder is None else self._waited_for("explain", self.folder)

    def _waited_for(self, step: str, later: Later[T]) -> T:
        """`later.get()`; `seconds` says how long the caller waited (`<step>.waited`):
        what the step cost the run beyond the work it was done beside."""
        value = later.get()
        self.seconds[f"{step}.waited"] = later.waited
        return value

    @property
    def blocking(self) -> int:
        return self.findings.filter(pl.col("severity") == "error").height


class Later(Generic[T]):
    """`call()`, worked out on a daemon thread of its own from now on; `get` waits for it.

    A daemon thread, not an executor: an executor joins its threads on the way
    out, so Ctrl-C or a bad file would wait until the call had finished
    (polars reading a whole file); a daemon thread is simply left behind by the
    exit. `get` raises what the call raised, every time it is asked.
    """

    def __init__(self, name: str, call: Callable[[], T]):
        self.waited = 0.0  # seconds `get` spent waiting for the call to finish
        self._outcome: tuple[bool, object] = (False, None)
        self._thread = threading.Thread(target=self._run, args=(call,), name=name, daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._outcome = (True, call())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks, in `get`
            self._outcome = (False, exc)

    def get(self, counted: bool = True) -> T:
        """What the call returned; with `counted`, the wait adds to `waited`."""
        started = time.perf_counter()
        self._thread.join()  # interruptible: Ctrl-C raises here at once
        if counted:
            self.waited += time.perf_counter() - started
        ok, value = self._outcome
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]


def _side_by_side(name: str, *calls: Callable[[], object]) -> list:
    """`[call() for call in calls]`, each call on its own daemon thread (`name-0`, …).

    The first call's error is raised first (when reading, the roster's before
    the filings'). Once the list is returned, the caller alone holds what the
    calls made: the frame of a file is freed as soon as the caller lets it go.
    """
    started = [Later(f"{name}-{i}", call) for i, call in enumerate(calls)]
    return [later.get() for later in started]


def _preload(with_gx: bool) -> None:
    """Import Pandera (`validate.preload`), then GX with its context
    (`gx_checks.preload`), in a background thread while the files are read.

    Pandera comes first: validation needs it seconds after the start, GX only
    after matching. Should either fail, the step that needs it imports or
    builds it itself and raises where the run can act on it: nothing is lost
    by ignoring it here.
    """
    with suppress(Exception):
        validate.preload()
        if with_gx:
            gx_checks.preload()


def _judged(
    members: pl.DataFrame,
    pairs: pl.DataFrame,
    found: pl.DataFrame,
    roster_rows: int,
    filing_rows: int,
    policy: Policy,
) -> tuple[gx_checks.Quality, pl.DataFrame]:
    """Great Expectations' outcomes, and every finding of the run, GX's last."""
    quality = gx_checks.validate(members, pairs, found, roster_rows, filing_rows, policy)
    gx_findings = findings_contract.conform(quality.findings, "Great Expectations")
    # GX's findings are about whole tables: no member, so no roster row.
    every = pl.concat([found, gx_findings], how="diagonal")
    return quality, findings_contract.conform(every, "the run")


def analyse(
    roster_path: Path | Content,
    filings_path: Path | Content,
    policy: Policy,
    as_of: dt.date,
    *,
    scope: Scope = "decisions",
    keep_rows: bool = False,
    on_rows: Callable[[pl.DataFrame, pl.DataFrame], None] | None = None,
    progress: Progress | None = None,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
) -> Result:
    """Everything but writing, as far as `scope` goes: findings, and (for `run`) the decisions.

    `keep_rows` keeps the validated rows on the result (the gate fingerprints
    them); otherwise they are freed once DuckDB has its copy. Either input may
    be `Content` held in memory instead of a file. `on_rows(roster, filings)`
    sees the validated rows before DuckDB takes them (the gate keeps only
    their fingerprints, instead of the rows through the whole run).
    """
    on_disk = [p for p in (roster_path, filings_path) if isinstance(p, Path)]
    if len(on_disk) == 2 and roster_path.resolve() == filings_path.resolve():  # type: ignore[union-attr]
        raise InputError(text("read.same_file", path=roster_path))
    given: tuple[tuple[object, Source], ...] = ((roster_path, "roster"), (filings_path, "filings"))
    for path, source in given:
        if isinstance(path, Path):  # before any thread starts: a typo fails at once
            read.require_file(path, f"--{source}", *read.TABLE_NAMES[source])
    with_decisions = scope == "decisions"
    # Importing Pandera takes ~0.6 s and Great Expectations ~3 s: both happen in
    # the background while polars and DuckDB work; the steps that need them wait.
    threading.Thread(
        target=_preload, args=(with_decisions,), name="recon-preload", daemon=True
    ).start()
    seconds: dict[str, float] = {}
    validated: dict[str, tuple[int, int]] = {}
    say = progress or (lambda _: None)

    def timed(name: str, fn, *args, **kwargs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
        return out

    def step(name: str, fn, *args, **kwargs):
        say(name)
        return timed(name, fn, *args, **kwargs)

    def on_stage(name: str, spent: float) -> None:
        seconds[f"sql.{name}"] = spent

    def prepare(
        path: Path | Content, source: Source, other: Path | Content, lookups: normalize.Lookups
    ) -> tuple[pl.DataFrame, pl.DataFrame, InputFile, bytes]:
        """(validated rows, their findings, what was read, the facts `recon explain`
        keeps) of one file, in its own thread; `lookups` is shared with the other file's."""
        started = time.perf_counter()
        # The other file's name, for the message when the two were swapped.
        counterpart = other.name if isinstance(other, Content) else other
        if isinstance(path, Content):
            name, data = path.name, path.data
        else:
            name, data = path, read.load(path, source)
        # Hashed before the parse, in one call without the GIL: after it, the bytes
        # would outlive the parse by the hash's time, beside the other file's peak.
        digest = hashlib.sha256(data).hexdigest()
        raw, blank = read.read_table(name, source, data, counterpart)
        del data
        read_file = InputFile(name, raw.height, digest, blank, in_memory=isinstance(path, Content))
        seconds[f"read.{source}"] = time.perf_counter() - started
        started = time.perf_counter()
        # Handed over, not lent: CPython (3.11+) moves call arguments into the
        # callee's frame, so with no reference left here each column normalize
        # replaces is freed at once instead of the raw text living to the end.
        held = [raw]
        del raw
        normalized = normalize.normalize(
            held.pop(), source, keys=scope != "inputs", lookups=lookups
        )
        seconds[f"normalize.{source}"] = time.perf_counter() - started
        started = time.perf_counter()
        rows, invalid = validate.validate(normalized, source)
        validated[source] = (rows.height, rows.get_column(read.ROW).n_unique())
        seconds[f"validate.{source}"] = time.perf_counter() - started
        # Compressed now, beside the other file's work, instead of held through DuckDB's peak.
        facts = explain.encoded_facts(rows, source) if with_decisions else b""
        return rows, invalid, read_file, facts

    # The two files are read, normalized and validated side by side: polars and
    # the CP932 transcode of one overlap with the other, and the raw text is freed at once.
    # What one file's normalize works out per distinct value, the other's reuses.
    lookups = normalize.Lookups(users=2)
    say("read, normalize and validate")
    started = time.perf_counter()
    roster_side, filings_side = _side_by_side(
        "recon-read",
        partial(prepare, roster_path, "roster", filings_path, lookups),
        partial(prepare, filings_path, "filings", roster_path, lookups),
    )
    seconds["read+normalize+validate"] = time.perf_counter() - started
    roster, roster_invalid, roster_file, roster_facts = roster_side
    filings, filings_invalid, filings_file, filing_facts = filings_side
    del roster_side, filings_side  # the frames are handed to DuckDB below, and freed there
    del lookups  # a kind only one file asked for is still held: not through DuckDB's peak

    if on_rows is not None:
        on_rows(roster, filings)
    facts = explain.SourceFacts(roster_facts, filing_facts) if with_decisions else None
    with stages.session(memory_limit, spill_dir) as con:
        inputs = {
            "roster": roster,
            "filings": filings,
            "validation_finding": pl.concat([roster_invalid, filings_invalid]),
        }
        if not keep_rows:  # handed to DuckDB: each is freed once copied
            roster = filings = None
        # Under a memory limit the inputs live where the limit applies (and can spill).
        # Shown as it is: `recon check` matches nothing, it finds each file's own problems.
        sql_step = "findings" if scope == "inputs" else "match"
        step(sql_step, match.load, con, inputs, policy, as_of, copy=memory_limit is not None)
        filing_match: pl.DataFrame | None = None
        if scope == "inputs":
            findings = step(sql_step, match.input_findings, con, on_stage)
        else:
            filing_match, findings = step(sql_step, match.match, con, on_stage)
        members = step("decide", decide.decide, con, on_stage) if with_decisions else None
    found = findings
    judged = folder = None
    if members is not None and filing_match is not None and facts is not None:
        tables = (members, filing_match, found, roster_file.rows, filings_file.rows)
        # Neither changes a decision: both are worked out on threads of their own
        # while the report's files that need neither are written (`output.write`),
        # which then waits for them. GX holds the GIL most of its time, polars
        # and the parquet writer hardly ever.
        say("gx")
        judged = Later("recon-gx", partial(timed, "gx", _judged, *tables, policy))
        folder = Later(
            "recon-explain",
            partial(
                timed,
                "explain",
                explain.encoded_folder,
                facts,
                members,
                filing_match,
                found,
                as_of,
                policy,
            ),
        )
    else:
        found = findings_contract.conform(found, "the run")

    result = Result(
        as_of=as_of,
        policy=policy,
        roster=roster_file,
        filings=filings_file,
        found=found,
        filing_match=filing_match,
        members=members,
        seconds=seconds,
        validated=validated,
        roster_rows=roster,
        filing_rows=filings,
        judged=judged,
        folder=folder,
    )
    result.conservation = check_conservation(result)
    return result


def check_conservation(result: Result) -> dict[str, int | bool | None]:
    """Every row read left validation once; each roster row is one member row; each
    filing row is matched or an orphan, once (as far as the run went).

    Returns the counts that prove it (summary.json's `conservation`; the rows
    validated are the rows read when it holds); raises `InvariantError` (exit 3)
    when they disagree.
    """
    problems = []
    for source, file in (("roster", result.roster), ("filings", result.filings)):
        kept, distinct = result.validated[source]
        if kept != file.rows or distinct != file.rows:
            problems.append(
                f"{file.rows} {source} rows read but {kept} validated ({distinct} distinct)"
            )
    member_rows = None
    if result.members is not None:
        rows = result.members["row"]
        member_rows = rows.n_unique()
        if rows.len() != result.roster.rows or member_rows != result.roster.rows:
            problems.append(
                f"{result.roster.rows} roster rows but {member_rows} distinct member rows"
            )
    orphaned = None
    if result.filing_match is not None:
        matched = result.filing_match["filing_row"]
        if matched.len() != result.filings.rows or matched.n_unique() != result.filings.rows:
            problems.append(
                f"{result.filings.rows} filing rows but {matched.n_unique()} accounted for"
            )
        orphans = result.filing_match.filter(pl.col("roster_row").is_null())["filing_row"]
        orphan_findings = result.found.filter(pl.col("check") == "filing.orphan")["row"]
        if orphans.sort().to_list() != orphan_findings.sort().to_list():
            problems.append("filings without a member and filing.orphan findings disagree")
        orphaned = orphans.len()
    if problems:
        raise InvariantError("conservation failed: " + "; ".join(problems))
    return {
        "roster_rows": result.roster.rows,
        "roster_blank_rows": result.roster.blank_rows,
        "member_rows": member_rows,
        "filing_rows": result.filings.rows,
        "filing_blank_rows": result.filings.blank_rows,
        "filings_matched": None if orphaned is None else result.filings.rows - orphaned,
        "filings_orphaned": orphaned,
        "holds": True,
    }


def write(
    result: Result,
    out: Path,
    lang: str = "ja",
    extra: Sequence[Callable[[Path], None]] = (),
    inputs: outdir.Inputs | None = None,
    sections: Sequence[output.Section] = (),
) -> Path:
    """Write every output into `out`, atomically: a failed run leaves the old report.

    `out` must be new, empty, or a folder recon made (`recon.outdir`); never an
    input or a folder holding one (`inputs`, beside the roster and filings the
    result was read from). The outputs are written into a staging folder beside
    `out` and renamed into place. Whatever interrupts this (Ctrl-C, SIGTERM, a
    full disk) rolls back: the previous report is put back and nothing
    half-written stays behind. `extra` writers (the gate's files) write into the
    same staging folder, so they are replaced together with the report; their
    `sections` (the gate's waivers) are rendered into report.html with the rest.
    """
    every_input = {**input_paths(result), **(inputs or {})}
    with _signals_deferred() as signalled:

        def fill(staging: Path) -> None:
            output.write(result, staging, lang, sections)
            # `recon explain`: each member's decisions and why, encoded by `analyse`.
            explain.write_files(result.explain_folder, staging)
            for writer in extra:
                writer(staging)

        return outdir.replace(out, every_input, fill, interrupted=lambda: bool(signalled))


def input_paths(result: Result) -> dict[str, Path | None]:
    """The files the result was read from (those on disk), by the option that named them."""
    return {
        option: file.path
        for option, file in (("--roster", result.roster), ("--filings", result.filings))
        if not file.in_memory
    }


@contextmanager
def _signals_deferred():
    """While writing, SIGINT and SIGTERM are only noted, and acted on at a safe point.

    An exception raised by a signal can land anywhere, even on the first line of
    the clean-up (one Ctrl-C surfaces twice: polars polls for signals, then
    Python raises again), so the write never takes one. A signal the process
    was started with ignored stays ignored (`signals.stop_signals`): noting it would
    turn it into an interruption after all.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    noted: list[int] = []
    keep_ignored()
    previous = {s: signal.signal(s, lambda signum, _: noted.append(signum)) for s in stop_signals()}
    try:
        yield noted
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
