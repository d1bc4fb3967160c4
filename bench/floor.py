"""The floor: the least any reader of these two files must do, timed in this process.

Decode each file to UTF-8 once (CP932 needs a transcode, written to a temporary
file DuckDB can read) and materialize every field of both files as text in
DuckDB. `CREATE TABLE … AS SELECT *` makes DuckDB parse every field; a bare
`count(*)` is optimized away and is no floor. Prints JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def floor(paths: list[Path]) -> dict[str, float]:
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(paths):
            started = time.perf_counter()
            data = path.read_bytes()
            try:
                data.decode("utf-8")
                readable = path
            except UnicodeDecodeError:
                readable = Path(tmp) / f"{i}.csv"
                readable.write_bytes(data.decode("cp932").encode("utf-8"))
            del data
            seconds[f"decode.{path.name}"] = time.perf_counter() - started
            started = time.perf_counter()
            con.execute(
                f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar=true, header=true)",
                [str(readable)],
            )
            seconds[f"table.{path.name}"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return seconds


if __name__ == "__main__":
    print(json.dumps(floor([Path(p) for p in sys.argv[1:]])))
