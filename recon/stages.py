"""Runs the DuckDB SQL stages under `sql/`: one file, one named table.

Like Splink's pipeline, each stage is small, named after the table it creates
and run in file order, so a stage can be read, timed and tested on its own.
Nothing is downloaded: DuckDB's extension auto-loading is switched off (SPEC §9).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from recon import outdir
from recon.errors import InputError, InvariantError
from recon.resources import shipped

# The inputs `match.load` registered: views over Arrow data the connection holds.
INPUT_VIEWS = "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal"
SPILL_PREFIX = "recon-spill-"
_CREATES = re.compile(r"CREATE OR REPLACE TABLE (\w+) AS", re.IGNORECASE)


@dataclass(frozen=True)
class Stage:
    name: str  # the table it creates
    path: Path
    sql: str


@cache
def stages() -> tuple[Stage, ...]:
    out = []
    for path in sorted(shipped("sql").glob("[0-9][0-9]_*.sql")):
        sql = path.read_text(encoding="utf-8")
        created = _CREATES.findall(sql)
        name = path.stem.split("_", 1)[1]
        if created != [name]:
            raise InvariantError(
                f"{path.name} must create exactly one table named {name}, not {created}"
            )
        out.append(Stage(name, path, sql))
    return tuple(out)


@contextmanager
def session(
    memory_limit: str | None = None, spill_dir: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that never reaches for the network, spilling privately.

    `memory_limit` (e.g. "4GB") caps DuckDB; past it, DuckDB spills pages of
    roster data to disk. Left to itself it would spill into `.tmp` in the
    current folder, readable by anyone who can read that folder and left
    behind by a crash. Spills go instead into a fresh owner-only (0700) folder
    inside `spill_dir` (default: the system temporary folder), removed when the
    session ends, interrupted or not. Its name carries the process id
    (`recon-spill-PID-…`): what a killed run left is removed by the next one.
    """
    if spill_dir is not None and not spill_dir.is_dir():
        raise InputError(f"--spill-dir {spill_dir}: no such folder.")
    parent = Path(tempfile.gettempdir()) if spill_dir is None else spill_dir
    outdir.remove_dead(parent, SPILL_PREFIX)
    try:
        private = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise InputError(
            f"--spill-dir {spill_dir}: cannot create a folder there ({exc.strerror})."
        ) from None
    config: dict[str, str | bool] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "temp_directory": str(private),
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise InputError(f"DuckDB refused --memory-limit {memory_limit}: {exc}") from None
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _mentions(sql: str) -> set[str]:
    """Every word of a stage's SQL outside comments and string literals."""
    code = re.sub(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", " ", sql, flags=re.DOTALL)
    return set(re.findall(r"\b[a-z_][a-z0-9_]*\b", code.lower()))


@cache
def _last_reader() -> dict[str, str]:
    """table -> the last stage that reads it (a table no stage reads is not listed)."""
    last: dict[str, str] = {}
    for stage in stages():
        for word in _mentions(stage.sql) - {stage.name}:
            last[word] = stage.name
    return last


def run(
    con: duckdb.DuckDBPyConnection,
    names: tuple[str, ...],
    on_stage: Callable[[str, float], None] | None = None,
    keep: tuple[str, ...] = (),
) -> None:
    """Run the named stages in file order; `on_stage(name, seconds)` after each.

    A table no later stage reads is dropped as soon as its last reader has run,
    and a registered input released, unless the caller will read it (`keep`):
    at a million members the roster would otherwise stay in memory until the end.
    """
    by_name = {s.name: s for s in stages()}
    unknown = set(names) - set(by_name)
    if unknown:
        raise InvariantError(f"no SQL stage named {sorted(unknown)}")
    existing = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    registered = {row[0] for row in con.sql(INPUT_VIEWS).fetchall()}
    for stage in stages():
        if stage.name not in names:
            continue
        started = time.perf_counter()
        con.execute(stage.sql)
        existing.add(stage.name)
        done = {t for t, last in _last_reader().items() if last == stage.name} - set(keep)
        for table in sorted(done & existing):
            con.execute(f"DROP TABLE {table}")
            existing.discard(table)
        for view in sorted(done & registered):
            con.unregister(view)
            registered.discard(view)
        if on_stage:
            on_stage(stage.name, time.perf_counter() - started)
