"""The layering of recon, read from the imports of every module (its AST).

Only the command line knows typer: `recon/cli.py` is imported by `__main__` alone,
the output layer imports no command, and the gate's steps no command either. And
no module hands polars a Python function to call per row or per group.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RECON = Path(__file__).resolve().parent.parent / "recon"


def _module(path: Path) -> str:
    parts = path.relative_to(RECON.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (inside functions and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                package = _module(path).split(".")
                base = ".".join(package[: len(package) - node.level + 1] + [node.module])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


MODULES = {_module(p): _imports(p) for p in sorted(RECON.rglob("*.py"))}


def _imports_of(prefix: str) -> dict[str, set[str]]:
    return {m: i for m, i in MODULES.items() if m == prefix or m.startswith(prefix + ".")}


def test_the_walk_sees_the_known_imports():
    # A walk that saw nothing would pass every rule below.
    assert "recon.cli" in MODULES["recon.__main__"]
    assert any(i.startswith("recon.output") for i in MODULES["recon.pipeline"])


def test_nothing_imports_the_cli_but_main():
    importers = {m for m, i in MODULES.items() if "recon.cli" in i}
    assert importers == {"recon.__main__"}


@pytest.mark.parametrize("layer", ["recon.output", "recon.gate", "recon.pipeline", "recon.proof"])
def test_layers_below_the_cli_import_no_command_and_no_typer(layer):
    for module, imports in _imports_of(layer).items():
        bad = {i for i in imports if i.startswith(("recon.commands", "recon.cli", "typer"))}
        assert not bad, f"{module} imports {sorted(bad)}"


def test_the_output_layer_does_not_import_the_pipeline():
    for module, imports in _imports_of("recon.output").items():
        assert not {i for i in imports if i.startswith("recon.pipeline")}, module


# The ways polars and DuckDB call back into Python for each row, window, batch or
# group: the work of a million rows belongs in expressions and SQL (bench/README.md).
_PYTHON_PER_ROW = {
    "map_elements",
    "map_rows",
    "map_batches",
    "map_groups",
    "rolling_map",
    "create_function",  # a DuckDB Python UDF
}


def _names_used(path: Path) -> dict[str, int]:
    """Every attribute and imported name in `path`, with the first line using it:
    a method named, called or not (`getattr` with a constant aside), is a use."""
    used: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            used.setdefault(node.attr, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                used.setdefault(alias.name, node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.setdefault(node.value, node.lineno)  # getattr(e, "map_elements")
    return used


def test_no_python_runs_per_row():
    used = {p.relative_to(RECON.parent): _names_used(p) for p in sorted(RECON.rglob("*.py"))}
    # The walk sees polars' methods (else the rule below would pass on nothing).
    assert "replace_all" in used[Path("recon/normalize/text.py")]
    offenders = [f"{p}:{line} {name}" for p, names in used.items() for name, line in names.items()]
    assert not [o for o in offenders if o.rsplit(" ", 1)[1] in _PYTHON_PER_ROW]
