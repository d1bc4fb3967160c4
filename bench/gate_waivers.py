"""The whole gate with a society's waivers file: 100,000 waivers on 1M members.

    python -m bench.gate                           # once: the repository and its reports
    python -m bench.gate_waivers [--waivers 100000] [--folder bench/out/gate-1000000]

`bench/waivers.py` times the matching alone; this times the command. It reuses
what `bench/gate.py` made in `--folder` (never regenerates it): the repository
and the gate's `reports/gate/gate.json`, whose findings (under the same key) the
waivers are written for. A tenth of the waivers name a member with no finding
(reported unused); the others waive real findings: the 3 new `match.sex` (so the
gate passes), every orphan filing by its finding id, then members' findings, a
third of them with their field. All are valid: a reason, an approver, and an
expiry a year after the day they are judged on (within `certificate_max_years`).

The waivers file is committed, as a society keeps it, at both revisions: a
`git clone --shared` of the repository (the objects are not copied) gets the two
commits again with `waivers.toml` in each, so the baseline's side reads and
applies the waivers too. Then, back to back on the same files and under
`/usr/bin/time -v`: `recon gate --baseline-ref HEAD~1` without waivers, and with
them (`--with-first`: the other way round, as the load on a shared machine drifts).
Prints one JSON object, with the load average before and after each.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.gate import HERE, KEY, _sh, _timed

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


def waivers_toml(gate_json: Path, count: int, expires: dt.date) -> tuple[str, int]:
    """The waivers file, and how many of its waivers match a finding."""
    findings = json.loads(gate_json.read_text(encoding="utf-8"))["findings"]
    new = [f for f in findings if f["status"] == "new"]
    orphans = [f for f in findings if f["member_id"] is None]
    seen, members = set(), []
    for f in new + [f for f in findings if f["member_id"] is not None]:
        if (f["check"], f["member_id"]) not in seen:
            seen.add((f["check"], f["member_id"]))
            members.append(f)
    matching = min(count - count // 10, len(orphans) + len(members))
    chosen = (new + orphans + members[len(new) :])[:matching]
    parts = []
    for number in range(1, count + 1):
        if number <= matching:
            f = chosen[number - 1]
            keys = {"check": f["check"]}
            if f["member_id"] is None:
                keys["finding"] = f["finding_id"]
            else:
                keys["member_id"] = f["member_id"]
                if f["field"] and (f in new or number % 3 == 0):
                    keys["field"] = f["field"]
        else:  # a member the roster does not have: reported as unused
            keys = {"check": "match.birth_date", "member_id": f"9999-{number:08d}-00"}
        body = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
        parts.append(
            f'[[waiver]]\n{body}reason = "戸籍謄本で確認済み、事業主が再提出予定 ({number})"\n'
            f'approved_by = "適用課 佐藤"\nexpires_on = {expires.isoformat()}\n'
        )
    return "\n".join(parts), matching


def prepare(source: Path, clone: Path, text: str) -> None:
    """`clone`: the source's two commits again, each with `waivers.toml` added."""
    shutil.rmtree(clone, ignore_errors=True)
    done = _sh(["git", "clone", "-q", "--shared", str(source), str(clone)], source.parent)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    (clone / "waivers.toml").write_text(text, encoding="utf-8")
    blob = _sh(["git", "hash-object", "-w", "waivers.toml"], clone).stdout.strip()
    parent: list[str] = []
    for ref, message in (("HEAD~1", "accepted, with waivers"), ("HEAD", "update")):
        listed = _sh(["git", "ls-tree", ref], clone).stdout
        entry = f"100644 blob {blob}\twaivers.toml\n"
        made = subprocess.run(
            ["git", "mktree"], cwd=clone, input=listed + entry, capture_output=True, text=True
        )
        tree = made.stdout.strip()
        commit = _sh([*GIT, "commit-tree", tree, *parent, "-m", message], clone).stdout.strip()
        parent = ["-p", commit]
    _sh(["git", "reset", "-q", commit], clone)  # the working tree already holds these files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waivers", type=int, default=100_000)
    parser.add_argument("--with-first", action="store_true", help="the load drifts: swap")
    parser.add_argument("--folder", type=Path, default=HERE / "out" / "gate-1000000")
    options = parser.parse_args()
    folder = options.folder.resolve()
    gate_json = folder / "reports" / "gate" / "gate.json"
    if not gate_json.is_file():
        raise SystemExit(f"{gate_json} is missing: run python -m bench.gate --folder {folder}")
    expires = dt.date.today() + dt.timedelta(days=365)
    text, matching = waivers_toml(gate_json, options.waivers, expires)
    clone = folder / f"waivers-{options.waivers}"
    prepare(folder / "repo", clone / "repo", text)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    env["RECON_GATE_KEY"] = KEY
    common = ["--roster", "roster.csv", "--filings", "filings.csv", "--as-of", "2025-06-30"]
    gate = [sys.executable, "-m", "recon", "gate", *common, "--baseline-ref", "HEAD~1"]
    rounds: dict[str, dict] = {}
    order = [("without", []), ("with", ["--waivers", "waivers.toml"])]
    for name, extra in reversed(order) if options.with_first else order:
        out = clone / "reports" / name
        shutil.rmtree(out, ignore_errors=True)
        before = os.getloadavg()
        timed = _timed([*gate, *extra, "--out", str(out)], clone / "repo", env)
        timed["load_before_after"] = [round(before[0], 1), round(os.getloadavg()[0], 1)]
        document = json.loads((out / "gate.json").read_text(encoding="utf-8"))
        timed["counts"] = document["counts"]
        timed["waived"] = sum(f["waived"] for f in document["findings"])
        rounds[name] = timed
    with (clone / "reports" / "with" / "waivers.csv").open(encoding="utf-8-sig") as handle:
        statuses = [row["status"] for row in csv.DictReader(handle)]
    print(
        json.dumps(
            {
                "waivers": options.waivers,
                "toml_mb": round(len(text.encode("utf-8")) / 1e6, 1),
                "written_to_match": matching,
                "status": {s: statuses.count(s) for s in sorted(set(statuses))},
                "order": list(rounds),
                **rounds,
                "time_ratio": round(rounds["with"]["seconds"] / rounds["without"]["seconds"], 2),
                "memory_ratio": round(
                    rounds["with"]["peak_rss_mb"] / rounds["without"]["peak_rss_mb"], 2
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
