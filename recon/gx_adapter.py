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
and builds the context ahead, in a background thread if the caller likes.
Each frame is the cheapest GX computes the same results on (`_pandas`:
categorical text, vectorizable numbers). Three of GX's own costs are cut where
they are paid, each explained where it is installed: a row condition's filter
made once per run instead of once per metric, a batch fingerprint hashed from
the column buffers, and Data Docs templates compiled once per process. Each
falls back to GX's own behaviour if a GX version lacks the part it replaces.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import os
import re
import shutil
import threading
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from recon.errors import InvariantError
from recon.masking import scrub

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
    """Every column a GX suite (as JSON) reads, row conditions included."""
    found: list[str] = []

    def walk(node: object, key: str | None = None) -> None:
        if isinstance(node, dict):
            if key in ("column", "column_A", "column_B") and isinstance(node.get("name"), str):
                found.append(node["name"])  # a row condition's column
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, "column" if key == "column_list" else key)
        elif isinstance(node, str) and key in ("column", "column_A", "column_B"):
            found.append(node)

    for expectation in suite["expectations"]:
        walk(expectation["kwargs"])
    return list(dict.fromkeys(found))


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
_EQUALITY_OPERATORS = frozenset({"==", "!=", "IN", "NOT IN"})


def text_columns(suite: Mapping[str, Any]) -> set[str] | None:
    """The columns that must reach GX as text, not categorical; None: any of them
    (a row condition recon cannot read, such as a pandas query string)."""
    found: set[str] = set()

    def walk_condition(node: object) -> bool:
        if not isinstance(node, dict):
            return False
        if "conditions" in node:  # and / or
            return all(walk_condition(c) for c in node["conditions"])
        column = node.get("column")
        if not isinstance(column, dict) or "name" not in column:
            return False  # pass_through and other forms: cannot tell
        if node.get("type") == "comparison" and node.get("operator") not in _EQUALITY_OPERATORS:
            found.add(column["name"])
        return True

    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        if expectation["type"] not in _CATEGORICAL_SAFE:
            found.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
            found.update(kwargs.get("column_list", []))
        if "row_condition" in kwargs and not walk_condition(kwargs["row_condition"]):
            return None
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
    batches: Sequence[tuple[Mapping[str, Any], pa.Table]], parameters: Mapping[str, Any]
) -> Validation:
    """Run each (GX suite JSON, table) pair in one ephemeral context.

    `parameters` fill the suites' `{"$PARAMETER": name}` placeholders. Each
    context serves one call: its Data Docs show this run's results, no other's.
    """
    for suite_json, table in batches:
        refused = _REFUSED_COLUMNS & set(table.column_names)
        if refused:
            raise InvariantError(
                f"GX suite {suite_json['name']} was handed {sorted(refused)}; never allowed"
            )
    session = _session([suite for suite, _ in batches])
    outcomes: list[Outcome] = []
    for suite_json, table in batches:
        name = suite_json["name"]
        frame = _pandas(table.select(needed_columns(suite_json)), text_columns(suite_json))
        try:
            with _row_filters_shared():
                run = session.definitions[name].run(
                    batch_parameters={"dataframe": frame},
                    expectation_parameters=dict(parameters),
                    result_format=RESULT_FORMAT,
                )
        finally:
            del frame
            session.release(name)
        for result in run.results:
            if result.exception_info.get("raised_exception"):
                raise InvariantError(
                    f"GX suite {name}: {result.expectation_config.meta['name']} could not run: "
                    f"{result.exception_info.get('exception_message')}"
                )
            outcomes.append(_outcome(name, result))
    return Validation(session.context, tuple(outcomes))


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
    """One ephemeral context holding a validation definition for each suite."""

    def __init__(self, suites: Sequence[Mapping[str, Any]]):
        gx = _great_expectations()
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
        source = self.context.data_sources.add_pandas("recon")
        self.definitions: dict[str, Any] = {}
        for spec in suites:
            name = spec["name"]
            # A copy: GX writes into the dicts it is given (its version, into `meta`).
            fresh = copy.deepcopy({k: v for k, v in spec.items() if k != "id"})
            suite = self.context.suites.add(gx.ExpectationSuite(**fresh))
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            self.definitions[name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )

    def release(self, name: str) -> None:
        """Let go of the suite's batch: GX's engine keeps its frame and every metric
        computed on it (whole-column masks) for as long as the context lives."""
        # Only memory is at stake: a GX without these parts keeps its frames, and the
        # run's own result or error must not be replaced by one from here.
        with suppress(Exception):
            engine = self.definitions[name].data.data_asset.datasource.get_execution_engine()
            engine.batch_manager.reset_batch_cache()
            engine.batch_manager.batch_data_cache.clear()  # the frames themselves
            cached = getattr(engine, "_metric_cache", None)
            if isinstance(cached, dict):
                cached.clear()


@cache
def _great_expectations() -> Any:
    """GX, imported once, usage statistics off, with the speed-ups below installed."""
    import great_expectations as gx

    for speed_up in (
        _install_shared_row_filters,
        _install_fast_fingerprint,
        _install_template_cache,
        _warm_up,
    ):
        # A GX without that part, or where it fails, does it its own way. Each
        # install checks the part it replaces first, so none is left half done.
        with suppress(Exception):
            speed_up()
    return gx


def defer_scipy_stats() -> None:
    """Let `scipy.stats` load on first use instead of during GX's import.

    GX imports it (`from scipy import stats`) in three modules for expectations
    recon does not use (KL divergence, KS tests); loading it was 0.5 s of GX's
    2 s import, spent holding the GIL while polars and DuckDB wait on it. The
    module is bound on `scipy` itself: through scipy's `__getattr__`, the import
    system would touch the lazy module and load it at once (Python 3.11).

    Process-wide, so only the `recon` process itself calls it (`cli.main`):
    before Python 3.12.3 a lazy module is not safe for two threads touching it
    first at the same moment, which an application embedding recon might do.
    """
    import importlib.util
    import sys

    if "scipy.stats" in sys.modules:
        return
    import scipy

    spec = importlib.util.find_spec("scipy.stats")
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scipy.stats"] = module
    spec.loader.exec_module(module)
    scipy.stats = module


def _warm_up() -> None:
    """What the first run would otherwise pay for: Data Docs' templates compiled into
    the shared cache, and the modules pandas and Arrow import on first use."""
    import pandas as pd
    import pyarrow.compute  # noqa: F401
    from great_expectations.render.view.view import DefaultJinjaPageView

    pd.DataFrame({"a": [1]}).query("a == 1")
    env = DefaultJinjaPageView().env
    for template in env.list_templates(filter_func=lambda name: name.endswith(".j2")):
        env.get_template(template)


def _pandas(table: pa.Table, keep_text: Collection[str] | None = ()) -> Any:
    """The table as the cheapest pandas frame GX's pandas engine computes the same results on.

    Text with few distinct values becomes categorical (GX filters the whole
    frame once per row condition: taking int8 codes is cheap, taking a million
    strings is not); dates become datetime64 rather than Python objects;
    integers become int64 and floats float64, the types GX's `between`
    compares vectorized (on any other it calls a Python function per row).
    Text that must stay text (`keep_text`, see `text_columns`; None: all of it) does.
    """

    def cheapest(name: str) -> pa.ChunkedArray:
        text_as_is = keep_text is None or name in keep_text
        return _cheapest(table[name], categorical=not text_as_is)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="recon-gx") as pool:
        columns = list(pool.map(cheapest, table.column_names))  # Arrow releases the GIL
    return pa.table(columns, names=table.column_names).to_pandas(date_as_object=False)


def _cheapest(column: pa.ChunkedArray, categorical: bool) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    kind = column.type
    is_text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
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


# GX's pandas engine filters the whole batch by an expectation's row condition
# once for every metric the expectation needs (its row count, its column
# types, its null count, its own condition...): four times or more, the same
# filter. While one of our runs resolves its metrics, a filter already made on
# the same frame for the same condition is handed out again. This is what GX
# already does without a row condition, where every metric gets the same batch
# frame: its metrics read the frame they are given and never modify it.
_shared_row_filters: ContextVar[dict[tuple, tuple[Any, Any]] | None] = ContextVar(
    "recon_gx_row_filters", default=None
)


@contextmanager
def _row_filters_shared():
    token = _shared_row_filters.set({})
    try:
        yield
    finally:
        _shared_row_filters.reset(token)


# GX marks each pandas batch with a fingerprint: an MD5 of pandas' row hashes,
# every column hashed row by row and combined. Categorical codes and numeric
# columns are already bytes: an MD5 of those buffers marks the same batch in a
# fraction of the time. Anything else is hashed as GX hashes it.
def _install_fast_fingerprint() -> None:
    from great_expectations.execution_engine import pandas_execution_engine as engine

    original = getattr(engine, "hash_pandas_dataframe", None)
    if original is None or getattr(original, "recon_fast", False):
        return

    def hash_pandas_dataframe(df):
        import numpy as np
        import pandas as pd

        digest = hashlib.md5(usedforsecurity=False)
        digest.update(repr((list(df.columns), [str(t) for t in df.dtypes], len(df))).encode())
        try:
            parts = [column for _, column in df.items()]
            if isinstance(df.index, pd.RangeIndex):
                digest.update(repr(df.index).encode())
            else:
                parts.append(df.index.to_series())
            for column in parts:
                values = column.array
                if isinstance(values, pd.Categorical):
                    digest.update(np.ascontiguousarray(values.codes).view(np.uint8))
                    digest.update(pd.util.hash_array(np.asarray(values.categories)).view(np.uint8))
                elif isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufmM":
                    digest.update(np.ascontiguousarray(column.to_numpy()).view(np.uint8))
                else:
                    digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy())
        except TypeError:  # unhashable values: GX has its own way
            return original(df)
        return digest.hexdigest()

    hash_pandas_dataframe.recon_fast = True  # type: ignore[attr-defined]
    engine.hash_pandas_dataframe = hash_pandas_dataframe


# Every Data Docs page view builds its own Jinja environment and compiles the
# same templates again: most of the time a build took. They share one cache of
# compiled templates (Jinja's own bytecode cache, keyed by template and source
# checksum), filled once per process; `preload` fills it ahead.
def _install_template_cache() -> None:
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaView

    original = DefaultJinjaView.__init__
    if getattr(original, "recon_cached", False):
        return

    class Compiled(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self._code: dict[str, bytes] = {}

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            code = self._code.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            self._code[bucket.key] = bucket.bytecode_to_string()

    compiled = Compiled()

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.env.bytecode_cache = compiled

    __init__.recon_cached = True  # type: ignore[attr-defined]
    DefaultJinjaView.__init__ = __init__


def _condition_key(condition: object) -> str:
    """A row condition as exact text: GX's repr prints `a == 1` and `a == "1"` alike."""
    as_dict = getattr(condition, "dict", None)  # GX 1.x conditions are pydantic models
    plain = as_dict() if callable(as_dict) else condition
    return type(condition).__name__ + json.dumps(plain, sort_keys=True, default=repr)


def _install_shared_row_filters() -> None:
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )

    original = getattr(PandasExecutionEngine, "_apply_row_condition_filter", None)
    if original is None or getattr(original, "recon_shared", False):
        return  # another GX: filter as it does, only slower

    def apply_row_condition_filter(self, data, row_condition, domain_kwargs):
        shared = _shared_row_filters.get()
        if shared is None:
            return original(self, data, row_condition, domain_kwargs)
        key = (id(data), _condition_key(row_condition), domain_kwargs.get("condition_parser"))
        found = shared.get(key)
        if found is None or found[0] is not data:  # `data` is kept: its id is not reused
            found = shared[key] = (data, original(self, data, row_condition, domain_kwargs))
        return found[1]

    apply_row_condition_filter.recon_shared = True  # type: ignore[attr-defined]
    PandasExecutionEngine._apply_row_condition_filter = apply_row_condition_filter


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
