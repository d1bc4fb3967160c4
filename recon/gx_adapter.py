"""The one door to Great Expectations (GX Core 1.x): suites in, plain outcomes out.

GX has no polars engine, and its SQLAlchemy path over DuckDB fails on every
metric (GX issues #10738, #11579), so the tables arrive as Arrow and reach GX
through its pandas datasource, each suite getting only the columns it names.
Nothing GX-specific leaves this module: a native DuckDB engine can replace it
with the same `validate` / `Validation.write_docs` shape and the same suite files.

Privacy (SPEC §9): usage statistics are off, a `my_number` column is refused,
results keep counts only (no unexpected values, no row samples), and the Data
Docs are stripped of every CDN reference and passed through `scrub`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def validate(
    batches: Sequence[tuple[Mapping[str, Any], pa.Table]], parameters: Mapping[str, Any]
) -> Validation:
    """Run each (GX suite JSON, table) pair in one ephemeral context.

    `parameters` fill the suites' `{"$PARAMETER": name}` placeholders.
    """
    # Read by GX at import and context creation: set before either happens.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )
    source = context.data_sources.add_pandas("recon")
    outcomes: list[Outcome] = []
    for suite_json, table in batches:
        name = suite_json["name"]
        refused = _REFUSED_COLUMNS & set(table.column_names)
        if refused:
            raise InvariantError(f"GX suite {name} was handed {sorted(refused)}; never allowed")
        frame = table.select(needed_columns(suite_json)).to_pandas()
        suite = context.suites.add(
            gx.ExpectationSuite(**{k: v for k, v in suite_json.items() if k != "id"})
        )
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        run = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=dict(parameters),
            result_format=RESULT_FORMAT,
        )
        for result in run.results:
            if result.exception_info.get("raised_exception"):
                raise InvariantError(
                    f"GX suite {name}: {result.expectation_config.meta['name']} could not run: "
                    f"{result.exception_info.get('exception_message')}"
                )
            outcomes.append(_outcome(name, result))
    return Validation(context, tuple(outcomes))


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
