"""The one door to Great Expectations (GX Core 1.x): suites in, plain outcomes out.

GX has no polars engine, and its SQLAlchemy path over DuckDB fails on every
metric (GX issues #10738, #11579), so the tables arrive as Arrow and reach GX
through its pandas datasource, each suite getting only the columns it names.
Nothing GX-specific leaves this module: a native DuckDB engine can replace it
with the same `validate` / `Validation.write_docs` shape and the same suite files.

Privacy (SPEC §9): usage statistics are off, a `my_number` column is refused,
results keep counts only (no unexpected values, no row samples), and the Data
Docs are stripped of every CDN reference and passed through `scrub`: with no
row value on them they quote no identifier either, so the whole page can be
scrubbed (unlike report.html, which lists members by id).

Speed (a million members): GX's import takes seconds, so `preload` imports it
and builds the context ahead, in a background thread if the caller likes, and
defers running the modules GX imports for features recon never uses to their
first use (`_deferred`). GX is used through its public API only: no part of it
is replaced. What makes it cheap is what it is handed. The suites have no row conditions (the caller
computes the few columns a condition selected, see `recon.gx_checks`), each
suite gets only the columns it names, and each column arrives as the cheapest
frame GX computes the same results on (`_pandas`: categorical text and flags,
vectorizable numbers), made on a thread beside GX while it validates the one before.
"""

from __future__ import annotations

import copy
import html
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import queue
import re
import shutil
import sys
import threading
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon.errors import InvariantError
from recon.masking import scrub

if TYPE_CHECKING:  # imported when first used, in the background (`preload`) on a run
    import pyarrow as pa

# BASIC with no partial list: GX computes counts but keeps no failing value,
# so a result cannot carry a name or a number however a suite is written.
RESULT_FORMAT = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "unexpected_metrics_with_values": False,
}

_REFUSED_COLUMNS = frozenset({"my_number", "my_number_raw"})
_DOCS_SITE = "recon"

# Data Docs templates load Bootstrap, jQuery, Vega and logos from CDNs; the
# pages must open on a closed network without reaching for any of them.
_EXTERNAL_TAG = re.compile(
    r"<(script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*[\"']https?://[^>]*>(?:\s*</script>)?",
    re.IGNORECASE,
)
_EXTERNAL_HREF = re.compile(r"\shref\s*=\s*[\"']https?://[^\"']*[\"']", re.IGNORECASE)
_EXTERNAL_URL = re.compile(r"url\(\s*[\"']?https?://[^)]*\)", re.IGNORECASE)
# What Bootstrap and Font Awesome gave the pages, in a few lines: readable
# tables, and the pass/fail marks that were icon-font glyphs.
_OFFLINE_CSS = (
    "body{margin:1rem 2rem;font-family:system-ui,sans-serif}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
    '.fa-check-circle::before{content:"\\2714";color:#1e7e34}'
    '.fa-times::before{content:"\\2718";color:#b00020}'
    ".cooltip .top,.ge-footer,.ge-cloud-footer{display:none}"
)


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, as counts: never a value from the data."""

    suite: str
    name: str  # the expectation's meta.name
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed: int | float | None  # table-level expectations: a number, or nothing


def needed_columns(suite: Mapping[str, Any]) -> list[str]:
    """Every column a GX suite (as JSON) reads, in the order it names them."""
    found: list[str] = []
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        found += [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        found += kwargs.get("column_list", [])
    return list(dict.fromkeys(found))


def refuse_row_conditions(suite: Mapping[str, Any]) -> None:
    """A suite reaches GX without row conditions: GX's pandas engine filters the
    whole frame again for every metric of a conditioned expectation (four times
    or more), which at a million rows is most of a run's GX time. The caller
    computes the selected rows as a column instead (`recon.gx_checks`)."""
    for expectation in suite["expectations"]:
        if "row_condition" in expectation["kwargs"]:
            raise InvariantError(
                f"GX suite {suite['name']}: {expectation['meta'].get('name')} has a row_condition; "
                "compute the rows it selects as a column of the table instead"
            )


# Expectations known to give the same answer on a categorical column as on
# text: they test membership, nullity, uniqueness or a pattern, never order,
# type or value counts. A column any other expectation reads stays text.
_CATEGORICAL_SAFE = frozenset(
    {
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_table_row_count_to_equal",
    }
)


def text_columns(suite: Mapping[str, Any]) -> set[str]:
    """The columns that must reach GX as text, not categorical: those an
    expectation reads beyond membership, nullity, uniqueness or a pattern."""
    found: set[str] = set()
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        if expectation["type"] not in _CATEGORICAL_SAFE:
            found.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
            found.update(kwargs.get("column_list", []))
    return found


class Validation:
    """The outcomes of a run, and the GX context that can still render them as Data Docs."""

    def __init__(self, context: Any, outcomes: tuple[Outcome, ...]):
        self._context = context
        self.outcomes = outcomes

    def write_docs(self, folder: Path) -> Path:
        """Build the Data Docs site into `folder`; returns its index page."""
        self._context.add_data_docs_site(
            site_name=_DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(folder),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        try:
            self._context.build_data_docs(site_names=[_DOCS_SITE])
        finally:
            self._context.delete_data_docs_site(_DOCS_SITE)
        # Pictures of GX's tutorials, 3 MB of them, that no page of ours shows.
        shutil.rmtree(folder / "static" / "images", ignore_errors=True)
        index = folder / "index.html"
        # GX's index fills its tables with bootstrap-table from a CDN: offline it is blank.
        index.write_text(self._index(folder), encoding="utf-8")
        for page in folder.rglob("*"):
            if page.suffix in (".html", ".css", ".js"):
                page.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
        return index

    def _index(self, folder: Path) -> str:
        items = []
        for suite in dict.fromkeys(o.suite for o in self.outcomes):
            passed = all(o.success for o in self.outcomes if o.suite == suite)
            where = suite.replace(".", "/")
            pages = sorted((folder / "validations" / where).rglob("*.html"))
            links = [(p.relative_to(folder).as_posix(), "validation result") for p in pages]
            links.append((f"expectations/{where}.html", "expectation suite"))
            anchors = " · ".join(
                f'<a href="{html.escape(href)}">{label}</a>' for href, label in links
            )
            mark = "fa-check-circle" if passed else "fa-times"
            items.append(f'<li><i class="{mark}"></i> <b>{html.escape(suite)}</b> — {anchors}</li>')
        return (
            '<!doctype html><html><head><meta charset="utf-8">'
            "<title>Data Docs — recon</title></head><body>"
            f"<h1>Great Expectations Data Docs</h1><ul>{''.join(items)}</ul></body></html>"
        )


def offline(page: str) -> str:
    """A Data Docs page with no reference to the network, and no full My Number."""
    page = _EXTERNAL_TAG.sub("", page)
    page = _EXTERNAL_HREF.sub("", page)
    page = _EXTERNAL_URL.sub("none", page)
    page = page.replace("</head>", f"<style>{_OFFLINE_CSS}</style></head>", 1)
    return scrub(page)


def preload(suites: Sequence[Mapping[str, Any]] = ()) -> None:
    """Import GX and build, for the next `validate` of exactly these suites, its context.

    Safe to call from a background thread while the caller does other work: it
    holds the module's lock, so a `validate` that comes early waits for it
    instead of importing GX a second time or building a second context beside it.
    Calling it again before that `validate` keeps what the first call built.
    """
    global _prepared
    with _lock:
        wanted = _suite_keys(suites)
        if _prepared is None or _prepared.keys != wanted:
            _prepared = _Session(suites)


def validate(
    batches: Sequence[tuple[Mapping[str, Any], pa.Table | Callable[[], pa.Table]]],
    parameters: Mapping[str, Any],
) -> Validation:
    """Run each (GX suite JSON, table) pair in one ephemeral context.

    `parameters` fill the suites' `{"$PARAMETER": name}` placeholders. Each
    context serves one call: its Data Docs show this run's results, no other's.

    A table may come as a function that makes it. The frames are made on a
    thread of their own, in order, one ahead of GX: while GX validates a suite
    (mostly Python, holding the GIL), the next suite's table is computed and
    converted (polars and Arrow, which release it).
    """
    for suite_json, _ in batches:
        refuse_row_conditions(suite_json)
    session = _session([suite for suite, _ in batches])
    outcomes: list[Outcome] = []
    # Closed on any way out: the thread making the frames stops before this returns.
    with closing(_frames_ahead(batches)) as frames:
        for i, frame in enumerate(frames):
            name = batches[i][0]["name"]
            try:
                run = session.definitions[name].run(
                    batch_parameters={"dataframe": frame},
                    expectation_parameters=dict(parameters),
                    result_format=RESULT_FORMAT,
                )
            finally:
                del frame
                session.release(name)
            outcomes += [_checked(name, result) for result in run.results]
    return Validation(session.context, tuple(outcomes))


def _frames_ahead(
    batches: Sequence[tuple[Mapping[str, Any], pa.Table | Callable[[], pa.Table]]],
) -> Generator[Any, None, None]:
    """Each batch's frame, in order, made on a thread of its own while GX
    validates the one before.

    One thread, and at most two frames alive at once (the one GX validates and
    the next): tables made two at a time, or all ahead, raised the run's peak
    by 260-300 MB at 5M members, where GX validates beside the report's
    writing. Nothing here keeps a frame once it is handed on: GX lets go of it
    after its run (`_Session.release`), and so the memory does.
    """
    made: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
    slots = threading.Semaphore(2)
    stopping = threading.Event()

    def make(suite: Mapping[str, Any], table: Any) -> None:
        slots.acquire()
        if stopping.is_set():
            return
        try:
            made.put((_frame(suite, table), None))
        except BaseException as error:  # re-raised in the caller's thread
            made.put((None, error))

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recon-gx-frames")
    try:
        for suite, table in batches:
            pool.submit(make, suite, table)
        for _ in batches:
            frame, error = made.get()
            if error is not None:
                raise error
            yield frame
            del frame
            slots.release()
    finally:
        stopping.set()
        for _ in batches:  # wakes a maker still waiting for a slot, to return
            slots.release()
        pool.shutdown(cancel_futures=True)


def _checked(suite: str, result: Any) -> Outcome:
    """The outcome of an expectation that ran; one GX could not run is recon's bug."""
    message = _raised(result.exception_info or {})
    if message is not None:
        raise InvariantError(
            f"GX suite {suite}: {result.expectation_config.meta['name']} could not run: {message}"
        )
    return _outcome(suite, result)


def _raised(info: Mapping[str, Any]) -> str | None:
    """The message of an exception GX caught while running an expectation, or None.

    GX gives it at the top (`raised_exception`) or, when a metric could not be
    computed, under that metric's id: without looking there, an expectation
    that never ran read as a plain failure with no counts.
    """
    for caught in (info, *(v for v in info.values() if isinstance(v, Mapping))):
        if caught.get("raised_exception"):
            return str(caught.get("exception_message") or "(no message)")
    return None


def _frame(suite: Mapping[str, Any], table: pa.Table | Callable[[], pa.Table]) -> Any:
    """The pandas frame GX validates `suite` on: only the columns it reads."""
    import pyarrow as pa

    made = table if isinstance(table, pa.Table) else table()
    refused = _REFUSED_COLUMNS & set(made.column_names)
    if refused:
        raise InvariantError(
            f"GX suite {suite['name']} was handed {sorted(refused)}; never allowed"
        )
    return _pandas(_columns(made, needed_columns(suite)), text_columns(suite))


def _columns(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """The columns a suite reads; one column at least, so that a suite of table-level
    expectations alone still sees every row (a frame without columns has none)."""
    return table.select(list(names) or table.column_names[:1])


def _pandas(table: pa.Table, keep_text: Collection[str] | None = ()) -> Any:
    """The table as the cheapest pandas frame GX's pandas engine computes the same results on.

    Text with few distinct values becomes categorical (GX's membership tests
    and its batch fingerprint read int8 codes instead of a million strings),
    and so do flags with gaps (pandas would make them a column of Python
    objects); dates become datetime64 rather than Python objects; integers
    become int64 and floats float64, the types GX's `between` compares
    vectorized (on any other it calls a Python function per row). Text that
    must stay text (`keep_text`, see `text_columns`; None: all of it) does.
    """
    import pyarrow as pa

    def cheapest(name: str) -> pa.ChunkedArray:
        text_as_is = keep_text is None or name in keep_text
        return _cheapest(table[name], categorical=not text_as_is)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="recon-gx") as pool:
        columns = list(pool.map(cheapest, table.column_names))  # Arrow releases the GIL
    return pa.table(columns, names=table.column_names).to_pandas(date_as_object=False)


def _cheapest(column: pa.ChunkedArray, categorical: bool) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    is_text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if not categorical and pa.types.is_dictionary(kind):  # categorical, but must be plain
        if not any(test(kind.value_type) for test in is_text):
            return pa.chunked_array([c.dictionary_decode() for c in column.chunks], kind.value_type)
        # Through large_string: Arrow cannot take from string views.
        return pa.chunked_array(
            [
                pa.DictionaryArray.from_arrays(
                    c.indices, c.dictionary.cast(pa.large_string())
                ).dictionary_decode()
                for c in column.chunks
            ],
            pa.large_string(),
        )
    if categorical and pa.types.is_boolean(kind) and column.null_count:
        return pc.dictionary_encode(column)
    if categorical and any(test(kind) for test in is_text):
        encoded = pc.dictionary_encode(column)
        distinct = max((len(chunk.dictionary) for chunk in encoded.chunks), default=0)
        return encoded if distinct * 4 <= len(column) else column
    wider = pa.int64() if pa.types.is_integer(kind) else pa.float64()
    if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and kind != wider:
        try:
            return column.cast(wider)
        except pa.ArrowInvalid:  # an unsigned value beyond int64: left as it is
            return column
    return column


# Read by GX at import and context creation. Set here, at recon's import in the
# main thread: setenv while polars reads the environment from another thread
# (the preload runs beside it) is a known cause of crashes.
os.environ["GX_ANALYTICS_ENABLED"] = "False"

# A context built ahead by `preload`, for the next `validate`; the lock makes
# the two take turns (see `preload`).
_lock = threading.Lock()
_prepared: _Session | None = None


def _suite_keys(suites: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(json.dumps(s, sort_keys=True, ensure_ascii=False) for s in suites)


def _session(suites: Sequence[Mapping[str, Any]]) -> _Session:
    """The context `preload` built for these suites, taken once; else a new one."""
    global _prepared
    with _lock:
        session, _prepared = _prepared, None
        if session is None or session.keys != _suite_keys(suites):
            session = _Session(suites)
    return session


class _Session:
    """One ephemeral context holding a validation definition for each suite, each
    suite on a data source of its own."""

    def __init__(self, suites: Sequence[Mapping[str, Any]]):
        import pyarrow.compute  # noqa: F401 - imported here, ahead, rather than by `_cheapest`

        with _deferred(_UNUSED_BY_GX_IMPORT):
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

        self.keys = _suite_keys(suites)
        if len({s["name"] for s in suites}) != len(suites):
            raise InvariantError(
                f"GX suites must have distinct names: {[s['name'] for s in suites]}"
            )
        self.context = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            ),
        )
        self.definitions: dict[str, Any] = {}
        for spec in suites:
            name = spec["name"]
            # A copy: GX writes into the dicts it is given (its version, into `meta`).
            fresh = copy.deepcopy({k: v for k, v in spec.items() if k != "id"})
            suite = self.context.suites.add(gx.ExpectationSuite(**fresh))
            source = self.context.data_sources.add_pandas(name)
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            self.definitions[name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )

    def release(self, name: str) -> None:
        """Let go of the suite's frame once it has run.

        GX's engine keeps each batch's frame and every metric computed on it
        (whole-column masks) for as long as its data source lives. The data
        source served this one run: deleting it, and the definition that
        reaches it, lets them go. The results, and with them the Data Docs,
        live in the context's stores, which do not hold the data.
        """
        del self.definitions[name]
        self.context.data_sources.delete(name)


# What GX imports at its own import for features recon's suites never reach:
# scipy.stats for the distribution expectations (0.6 CPU-s, a third of GX's
# import) and altair, with jsonschema and asyncio behind it, for the charts of
# profiling results (0.1 CPU-s).
_UNUSED_BY_GX_IMPORT = frozenset({"scipy.stats", "altair"})


class _OnFirstUse(importlib.abc.MetaPathFinder):
    """Finds `names` where Python would, and runs each only when first used.

    Python's own `importlib.util.LazyLoader`: the module is the real one, its
    code run by its own loader at the first attribute anyone reads from it.
    Nothing of GX is replaced; if GX ever reads scipy.stats while it imports,
    scipy.stats is simply loaded then, as it would be without this.
    """

    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None  # not a plain source module: imported the usual way
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@contextmanager
def _deferred(names: frozenset[str]) -> Iterator[None]:
    """While inside, importing one of `names` runs it on first use (`_OnFirstUse`).

    The first use must come from one thread at a time (Python before 3.13 has
    no lock there): nothing in recon uses these modules at all.
    """
    finder = _OnFirstUse(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _outcome(suite: str, result: Any) -> Outcome:
    got = result.result or {}
    observed = got.get("observed_value")
    return Outcome(
        suite=suite,
        name=result.expectation_config.meta["name"],
        success=bool(result.success),
        element_count=got.get("element_count"),
        unexpected_count=got.get("unexpected_count"),
        observed=observed
        if isinstance(observed, int | float) and not isinstance(observed, bool)
        else None,
    )
