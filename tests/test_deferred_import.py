"""The modules GX imports but recon's suites never use are run on first use, not at import.

`gx_adapter._deferred` is Python's own `importlib.util.LazyLoader`: the module
found is the real one, run by its own loader the first time anything is read
from it. These tests use throwaway modules that note when their code runs.
"""

from __future__ import annotations

import importlib
import sys
import uuid

import pytest

from recon import gx_adapter


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A fresh package on sys.path with a module that notes each run of its code."""
    name = f"deferred_{uuid.uuid4().hex}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "heavy.py").write_text(
        "import builtins\n"
        "builtins.__dict__.setdefault('_heavy_runs', []).append(__name__)\n"
        "def answer():\n    return 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m.split(".")[0] == name]:
        del sys.modules[module]
    import builtins

    builtins.__dict__.pop("_heavy_runs", None)


def _runs() -> list[str]:
    import builtins

    return builtins.__dict__.get("_heavy_runs", [])


def test_a_deferred_module_runs_only_when_first_used_and_is_the_real_one(package):
    heavy = f"{package}.heavy"
    with gx_adapter._deferred(frozenset({heavy})):
        module = importlib.import_module(heavy)
        # As GX reaches scipy.stats: `from scipy import stats`.
        same = __import__(package, fromlist=["heavy"]).heavy
    assert same is module
    assert _runs() == []  # imported, not yet run
    assert module.answer() == 42  # first use runs it, once
    assert _runs() == [heavy]
    assert type(module).__name__ == "module"
    assert module.__file__.endswith("heavy.py")
    assert module.answer() == 42
    assert _runs() == [heavy]


def test_only_the_named_modules_are_deferred_and_only_inside_the_block(package):
    heavy = f"{package}.heavy"
    with gx_adapter._deferred(frozenset({f"{package}.other"})):
        importlib.import_module(heavy)
    assert _runs() == [heavy]  # not named: run at import as always
    del sys.modules[heavy]
    with gx_adapter._deferred(frozenset({heavy})):
        pass
    importlib.import_module(heavy)
    assert _runs() == [heavy, heavy]  # after the block: run at import again
    assert not any(isinstance(f, gx_adapter._OnFirstUse) for f in sys.meta_path)


def test_a_module_already_imported_is_left_as_it_is(package):
    heavy = f"{package}.heavy"
    first = importlib.import_module(heavy)
    with gx_adapter._deferred(frozenset({heavy})):
        again = importlib.import_module(heavy)
    assert again is first
    assert _runs() == [heavy]


def test_the_finder_leaves_the_import_path_even_when_the_import_fails(package):
    with pytest.raises(ZeroDivisionError), gx_adapter._deferred(frozenset({"x"})):
        1 / 0  # noqa: B018 - an error inside the block
    assert not any(isinstance(f, gx_adapter._OnFirstUse) for f in sys.meta_path)
