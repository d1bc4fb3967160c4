"""Runs the DuckDB SQL stages under `sql/`: one file, one named table.

Like Splink's pipeline, each stage is small, named after the table it makes
and run in file order, so a stage can be read, timed and tested on its own.
Each file declares, in its header, the tables it reads and the one it makes:

    -- reads: filing_match, filings
    -- makes: number_owner

From those alone come which stages a caller's tables need, in which order,
and when each table is dropped (after its last reader). A stage whose table
only the caller reads may make a view instead (`CREATE OR REPLACE VIEW`): it
is computed as the caller reads it, in the order asked, instead of being
written into a table first and read back (the decisions: a million rows of
some thirty columns). What a view reads is kept until the session ends. A declaration is
checked when the stages are loaded: a read must be an input or made by an
earlier file, and must be what the SQL reads (tests/test_stages.py holds
every declaration to a real SQL parser as well).
Nothing is downloaded: DuckDB's extension auto-loading is switched off (SPEC §9).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from recon import outdir
from recon.errors import InputError, InvariantError
from recon.resources import shipped
from recon.texts import os_reason, text

# What `match.load` hands DuckDB before the first stage: the two files, the
# validation findings, the check catalog and one row of run parameters.
INPUTS = ("roster", "filings", "validation_finding", "catalog", "params")
# The inputs `match.load` registered: views over Arrow data the connection holds.
INPUT_VIEWS = "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal"
SPILL_PREFIX = "recon-spill-"
# With no --memory-limit, DuckDB gets this share of the machine's memory (or of
# the cgroup's limit, in a container or CI job). DuckDB's own default, 80 %,
# counts DuckDB alone: beside it recon holds the polars frames it reads and the
# report it writes, and at 5M members an uncapped run peaked at 8.6 GB on a
# 24 GB machine. At 15 % it peaks under 8 GB there (bench/README.md); on a
# 7 GB CI runner DuckDB gets about 1 GB and spills past it.
DEFAULT_MEMORY_SHARE = 0.15
# Never less than DuckDB needs to run the shipped sample comfortably.
DEFAULT_MEMORY_FLOOR = 256 * 2**20
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)
_CREATES = re.compile(r"CREATE OR REPLACE (TABLE|VIEW) (\w+) AS", re.IGNORECASE)
_DECLARATION = re.compile(r"-- (reads|makes):(.*)")


@dataclass(frozen=True)
class Stage:
    name: str  # the table it makes
    path: Path
    sql: str
    reads: tuple[str, ...]  # as declared, in the declaration's order
    view: bool = False  # made as a view, which only the caller reads


def _declaration(path: Path, sql: str) -> dict[str, tuple[str, ...]]:
    """The `-- reads:` and `-- makes:` lines of the comment block a stage starts with."""
    found: dict[str, tuple[str, ...]] = {}
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        declared = _DECLARATION.fullmatch(line.rstrip())
        if declared:
            key, names = declared.groups()
            if key in found:
                raise InvariantError(f"{path.name}: '-- {key}:' is declared twice")
            found[key] = tuple(n.strip() for n in names.split(",") if n.strip())
    missing = [k for k in ("reads", "makes") if k not in found]
    if missing:
        raise InvariantError(
            f"{path.name}: its header must declare {' and '.join(f'-- {k}:' for k in missing)}"
        )
    return found


def _load(path: Path, made: Iterable[str], known: set[str]) -> Stage:
    sql = path.read_text(encoding="utf-8")
    declared = _declaration(path, sql)
    name = path.stem.split("_", 1)[1]
    creates = _CREATES.findall(sql)  # (TABLE or VIEW, name) of each CREATE
    created = [table for _, table in creates]
    if declared["makes"] != (name,) or created != [name]:
        raise InvariantError(
            f"{path.name} must make exactly one table named {name}: it declares "
            f"{list(declared['makes'])} and creates {created}"
        )
    available = set(INPUTS) | set(made)
    unmade = [t for t in declared["reads"] if t not in available]
    if unmade:
        raise InvariantError(
            f"{path.name} reads {unmade}, which no earlier stage makes and which is no input "
            f"(inputs: {', '.join(INPUTS)})"
        )
    mentioned = _mentions(sql) & known
    if set(declared["reads"]) != mentioned - {name}:
        raise InvariantError(
            f"{path.name} declares that it reads {sorted(declared['reads'])}, "
            f"but its SQL reads {sorted(mentioned - {name})}"
        )
    return Stage(name, path, sql, declared["reads"], view=creates[0][0].upper() == "VIEW")


@cache
def stages() -> tuple[Stage, ...]:
    """The shipped stages, in file order."""
    return load(sorted(shipped("sql").glob("[0-9][0-9]_*.sql")))


def load(paths: list[Path]) -> tuple[Stage, ...]:
    """The stages of these files, in this order, their declarations checked."""
    known = set(INPUTS) | {p.stem.split("_", 1)[1] for p in paths}
    out: list[Stage] = []
    for path in paths:
        stage = _load(path, (s.name for s in out), known)
        if stage.name in INPUTS or stage.name in {s.name for s in out}:
            raise InvariantError(f"{path.name} makes {stage.name}, which already exists")
        # A view is computed at each read: read by a later stage, it would be
        # computed again by every reader, and its inputs dropped under it.
        views = [s.name for s in out if s.view and s.name in stage.reads]
        if views:
            raise InvariantError(
                f"{path.name} reads {views}, made as a view: only the caller may read a view"
            )
        out.append(stage)
    return tuple(out)


def _mentions(sql: str) -> set[str]:
    """Every word of a stage's SQL outside comments and string literals.

    The cheap check of a declaration at every run: the known tables among
    these words are the ones the SQL reads.
    """
    code = re.sub(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", " ", sql, flags=re.DOTALL)
    return set(re.findall(r"\b[a-z_][a-z0-9_]*\b", code.lower()))


@cache
def drop_points() -> dict[str, tuple[str, ...]]:
    """stage -> the tables (made or input) it is the last reader of.

    Nothing for a view: the caller computes it by reading it, so what it reads
    stays until the session ends.
    """
    last: dict[str, str] = {}
    for stage in stages():
        for table in stage.reads:
            last[table] = stage.name
    return {
        s.name: () if s.view else tuple(sorted(t for t, r in last.items() if r == s.name))
        for s in stages()
    }


def plan(targets: Iterable[str], present: Iterable[str] = ()) -> tuple[Stage, ...]:
    """The stages that make `targets`, in file order, given the tables `present` already.

    What a needed stage reads is needed in turn, unless present; an input
    that is needed but not present was never loaded, or was already released.
    """
    makers = {s.name: s for s in stages()}
    have = set(present)
    needed: set[str] = set()
    todo = list(targets)
    while todo:
        table = todo.pop()
        if table in have or table in needed:
            continue
        if table not in makers:
            where = "an input that is not loaded" if table in INPUTS else "made by no stage"
            raise InvariantError(f"table {table} is needed but is {where}")
        needed.add(table)
        todo.extend(makers[table].reads)
    return tuple(s for s in stages() if s.name in needed)


def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower.

    None when neither can be read (not Linux or another POSIX system).
    """
    sizes = []
    with suppress(AttributeError, ValueError, OSError):  # sysconf is POSIX only
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # "max" (v2) or a huge number (v1) mean no limit
            sizes.append(int(text))
    sizes = [size for size in sizes if size > 0]
    return min(sizes) if sizes else None


def default_memory_bytes(memory: int | None = None) -> int | None:
    """DuckDB's memory limit in bytes when --memory-limit is not given.

    `DEFAULT_MEMORY_SHARE` of `memory` (default: `machine_memory()`), at least
    `DEFAULT_MEMORY_FLOOR`; None (DuckDB's own default) when the memory is unknown.
    """
    memory = machine_memory() if memory is None else memory
    if memory is None:
        return None
    return max(int(memory * DEFAULT_MEMORY_SHARE), DEFAULT_MEMORY_FLOOR) // 2**20 * 2**20


def default_memory_limit(memory: int | None = None) -> str | None:
    """`default_memory_bytes` as DuckDB and --memory-limit write it, e.g. "3622MiB"."""
    size = default_memory_bytes(memory)
    return None if size is None else f"{size // 2**20}MiB"


@contextmanager
def session(
    memory_limit: str | None = None, spill_dir: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that never reaches for the network, spilling privately.

    `memory_limit` (e.g. "4GB") caps DuckDB; past it, DuckDB spills pages of
    roster data to disk; without one, at `default_memory_limit()`. Left to
    itself DuckDB would spill into `.tmp` in the current folder, readable by
    anyone who can read that folder and left behind by a crash. Spills go
    instead into a fresh owner-only (0700) folder inside `spill_dir` (default:
    the system temporary folder), removed when the session ends, interrupted
    or not. Its name carries the process id (`recon-spill-PID-…`): what a
    killed run left is removed by the next one.
    """
    if spill_dir is not None and not spill_dir.is_dir():
        problem = "not_a_folder" if spill_dir.exists() else "missing"
        raise InputError(text(f"messages.spill.{problem}", path=spill_dir))
    parent = Path(tempfile.gettempdir()) if spill_dir is None else spill_dir
    outdir.remove_dead(parent, SPILL_PREFIX)
    try:
        private = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=parent))
    except OSError as exc:
        # Without --spill-dir the folder is the system's temporary one: said as such.
        key = "cannot_create" if spill_dir is not None else "cannot_create_in_temp"
        raise InputError(
            text(f"messages.spill.{key}", path=parent, reason=os_reason(exc))
        ) from None
    # The value type duckdb.connect declares (its dict is invariant in it).
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "temp_directory": str(private),
        # No stage reads a table in the order it was written: every output has its
        # own ORDER BY, and no aggregate depends on row order (`any_value` is only
        # taken where one row qualifies, `string_agg` is ordered). Unordered, each
        # thread writes its own rows without waiting for the others' batches.
        "preserve_insertion_order": False,
    }
    limit = memory_limit or default_memory_limit()
    if limit:
        config["memory_limit"] = limit
    try:
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise InputError(
                text("messages.memory.refused", given=memory_limit or limit, reason=exc)
            ) from None
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def run(
    con: duckdb.DuckDBPyConnection,
    targets: tuple[str, ...],
    on_stage: Callable[[str, float], None] | None = None,
    keep: tuple[str, ...] = (),
) -> None:
    """Make the `targets` tables with the stages they need; `on_stage(name, seconds)` after each.

    A table is dropped, and a registered input released, as soon as its last
    reader has run, unless it is a target or the caller will read it (`keep`):
    at a million members the roster would otherwise stay in memory until the end.
    A target made as a view is only defined here: the caller's read computes it.
    """
    existing = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    registered = {row[0] for row in con.sql(INPUT_VIEWS).fetchall()}
    for stage in plan(targets, existing | registered):
        started = time.perf_counter()
        con.execute(stage.sql)
        existing.add(stage.name)
        done = set(drop_points()[stage.name]) - set(targets) - set(keep)
        for table in sorted(done & existing):
            con.execute(f"DROP TABLE {table}")
            existing.discard(table)
        for view in sorted(done & registered):
            con.unregister(view)
            registered.discard(view)
        if on_stage:
            on_stage(stage.name, time.perf_counter() - started)
