"""The roster's and the filings' normalize share what they work out per distinct value.

Sharing must change nothing but the work: each file comes out exactly as it
does alone, whichever file goes first, and a value is computed once.
"""

from __future__ import annotations

import threading

import polars as pl
import pytest

from recon import normalize, read
from recon.normalize.lookups import Lookups
from recon.synthetic import generate_sample, write_sample

# Keyed with seeds drawn per call, so never equal across two calls (SPEC §9).
PER_CALL = ["my_number_key"]


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Both files of a synthetic pair with defects in a third of its households, as read."""
    folder = tmp_path_factory.mktemp("lookups")
    paths = write_sample(generate_sample(2_000, seed=29, defects=0.33), folder)
    return {source: read.read_table(paths[source], source)[0] for source in ("roster", "filings")}


def _alone(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    return normalize.normalize(frame, source).drop(PER_CALL, strict=False)


@pytest.mark.parametrize("order", [("roster", "filings"), ("filings", "roster")])
def test_a_shared_lookup_changes_no_value_whichever_file_goes_first(raw, order):
    lookups = Lookups(users=2)
    for source in order:
        shared = normalize.normalize(raw[source], source, lookups=lookups)
        assert shared.drop(PER_CALL, strict=False).equals(_alone(raw[source], source)), source


def test_the_second_file_computes_only_the_values_the_first_did_not_hold(raw):
    lookups = Lookups(users=2)
    asked: dict[str, list[int]] = {}
    original = lookups.table

    def counting(kind, values, compute):
        def counted(todo: pl.Series) -> pl.DataFrame:
            asked.setdefault(kind, []).append(todo.len())
            return compute(todo)

        return original(kind, values, counted)

    lookups.table = counting  # type: ignore[method-assign]
    for source in ("roster", "filings"):
        normalize.normalize(raw[source], source, lookups=lookups)
    addresses = [set(raw[s]["address"].str.strip_chars().drop_nulls()) - {""} for s in raw]
    assert set(asked) == {"date", "name", "kana", "address"}
    # The filings' addresses minus the roster's: the second call computed only those.
    assert asked["address"][1] == len(addresses[1] - addresses[0]) < len(addresses[1])
    # Both files have had their tables: nothing is held any longer (a third call
    # computes every value again).
    normalize.normalize(raw["roster"], "roster", lookups=lookups)
    assert asked["address"][2] == len(addresses[0])


def test_a_lookup_for_one_user_keeps_nothing():
    lookups, computed = Lookups(), []
    for _ in range(2):
        lookups.table("kind", pl.Series(["a", "b"]), _doubled(computed))
    assert computed == [["a", "b"], ["a", "b"]]


def _doubled(computed: list):
    def compute(values: pl.Series) -> pl.DataFrame:
        computed.append(values.sort().to_list())
        return values.to_frame("v").with_columns(twice=pl.col("v") + pl.col("v"))

    return compute


def test_two_threads_at_once_keep_one_row_per_value():
    lookups = Lookups(users=3)
    both_inside = threading.Barrier(2, timeout=10)
    computed = []

    doubled = _doubled(computed)

    def compute(values: pl.Series) -> pl.DataFrame:
        both_inside.wait()  # neither has stored its table: both compute "b"
        return doubled(values)

    results: dict[int, pl.DataFrame] = {}
    tables = [pl.Series(["a", "b"]), pl.Series(["b", "c"])]

    def one(i: int) -> None:
        results[i] = lookups.table("kind", tables[i], compute)

    threads = [threading.Thread(target=one, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(computed) == [["a", "b"], ["b", "c"]]
    for i, values in enumerate(tables):
        assert sorted(results[i]["v"].to_list()) == values.to_list()
    # Afterwards one row per value, and a third call computes nothing new.
    computed.clear()
    again = lookups.table("kind", pl.Series(["a", "b", "c"]), _doubled(computed))
    assert computed == [[]]
    assert sorted(again["v"].to_list()) == ["a", "b", "c"]
    assert again.filter(pl.col("v") == "b")["twice"].to_list() == ["bb"]
