"""The gate beside `recon run` on the same files: time, peak memory and the verdict.

    python -m bench.gate                      # 1M members
    python -m bench.gate --members 5000000 --memory-limit 3GB

Makes (once per size, in `bench/out/gate-<members>/`) a `recon sample` roster
whose member ids are realistic (記号 4 digits, 番号 6 digits: `1000-100001-00`,
twelve digits), commits it to a git repository, flips the sex of 3 filings of
members without an expected finding, commits that, and measures back to back,
under the same load: `recon run` on the update, then `recon gate
--baseline-ref HEAD~1` with a key. Each under `/usr/bin/time -v` (peak RSS,
wall time). The gate must exit 1 with exactly 3 new findings (`match.sex`).
Prints one JSON object; `--repeat N` measures N rounds (the machine is shared).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENCODING = "cp932"
KEY = "bench-gate-key-" + "0" * 32


def _sh(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, check=False)


def _realistic_ids(roster: Path) -> None:
    """番号 as six digits (1 -> 100001): member ids of twelve digits, households intact."""
    text = roster.read_bytes().decode(ENCODING)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    number = rows[0].index("番号")
    for row in rows[1:]:
        row[number] = str(100000 + int(row[number]))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)
    roster.write_bytes(out.getvalue().encode(ENCODING))


def _flip_three(filings: Path, truth: Path) -> list[int]:
    """The sex of 3 filings (data rows) that the sample gives no finding: 3 new match.sex."""
    flagged = set()
    with truth.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"] == "filings":
                flagged.add(int(row["row"]))
    text = filings.read_bytes().decode(ENCODING)
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    newline = "\r\n" if "\r\n" in text else "\n"
    header = next(csv.reader([lines[0]]))
    sex = header.index("sex")
    relation = header.index("relation")
    flipped: list[int] = []
    step = max(1, (len(lines) - 2) // 4)
    for start in (step, 2 * step, 3 * step):
        for row_number in range(start, len(lines) - 1):
            if row_number in flagged:
                continue
            fields = next(csv.reader([lines[row_number]]))
            if fields[sex] not in ("1", "2") or fields[relation] != "本人":
                continue
            fields[sex] = "2" if fields[sex] == "1" else "1"
            out = io.StringIO(newline="")
            csv.writer(out, lineterminator="").writerow(fields)
            lines[row_number] = out.getvalue()
            flipped.append(row_number)
            break
    filings.write_bytes(newline.join(lines).encode(ENCODING))
    return flipped


def prepare(members: int, folder: Path) -> Path:
    """The git repository holding the accepted roster and the update (made once)."""
    repo = folder / "repo"
    if (repo / ".git").is_dir():
        return repo
    sample = folder / "sample"
    if not (sample / "truth.csv").is_file():  # a sample made before is reused
        made = _sh(
            [sys.executable, "-m", "recon", "sample", "--members", str(members)]
            + ["--out", str(sample)],
            HERE.parent,
        )
        if made.returncode != 0:
            raise SystemExit(made.stderr)
    shutil.rmtree(folder / "repo", ignore_errors=True)
    repo.mkdir(parents=True)
    for name in ("roster.csv", "filings.csv"):
        shutil.copy(sample / name, repo / name)
    _realistic_ids(repo / "roster.csv")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    _sh(["git", "init", "-q", "-b", "main"], repo)
    _sh([*git, "add", "roster.csv", "filings.csv"], repo)
    _sh([*git, "commit", "-q", "-m", "accepted"], repo)
    flipped = _flip_three(repo / "filings.csv", sample / "truth.csv")
    (folder / "flipped.json").write_text(json.dumps(flipped), encoding="utf-8")
    _sh([*git, "commit", "-q", "-am", "update: the sex of 3 filings flipped"], repo)
    return repo


def _timed(args: list[str], cwd: Path, env: dict) -> dict:
    done = _sh(["/usr/bin/time", "-v", *args], cwd, env)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    seconds = 0.0
    for part in wall.group(1).split(":") if wall else []:
        seconds = seconds * 60 + float(part)
    return {
        "exit": done.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(int(rss.group(1)) / 1024) if rss else None,
        "stderr_tail": done.stderr.splitlines()[-25:-23] if done.returncode > 1 else [],
    }


def measure(repo: Path, memory_limit: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    env["RECON_GATE_KEY"] = KEY
    common = ["--roster", "roster.csv", "--filings", "filings.csv", "--as-of", "2025-06-30"]
    if memory_limit:
        common += ["--memory-limit", memory_limit]
    recon = [sys.executable, "-m", "recon"]
    out = repo.parent / "reports"
    shutil.rmtree(out, ignore_errors=True)
    run = _timed([*recon, "run", *common, "--out", str(out / "run")], repo, env)
    gate = _timed(
        [*recon, "gate", *common, "--baseline-ref", "HEAD~1", "--out", str(out / "gate")],
        repo,
        env,
    )
    verdict = {}
    gate_json = out / "gate" / "gate.json"
    if gate_json.is_file():
        document = json.loads(gate_json.read_text(encoding="utf-8"))
        new = [f for f in document["findings"] if f["status"] == "new"]
        verdict = {
            "counts": document["counts"],
            "new": sorted({(f["check"], f["member_id"]) for f in new}),
        }
    return {
        "run": run,
        "gate": gate,
        "time_ratio": round(gate["seconds"] / run["seconds"], 2) if run["seconds"] else None,
        "memory_ratio": round(gate["peak_rss_mb"] / run["peak_rss_mb"], 2)
        if run["peak_rss_mb"] and gate["peak_rss_mb"]
        else None,
        **verdict,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default=None, help="passed to run and gate alike")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--folder", type=Path, default=None)
    options = parser.parse_args()
    folder = options.folder or HERE / "out" / f"gate-{options.members}"
    repo = prepare(options.members, folder)
    rounds = [measure(repo, options.memory_limit) for _ in range(options.repeat)]
    flipped = json.loads((folder / "flipped.json").read_text(encoding="utf-8"))
    print(json.dumps({"members": options.members, "flipped_rows": flipped, "rounds": rounds}))


if __name__ == "__main__":
    main()
