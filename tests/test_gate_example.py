"""The README's CI example, run here on the sample data: each step's documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_ci_script_gives_the_documented_results_on_the_sample(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "RECON": f"{sys.executable} -m recon",
        "PYTHON": sys.executable,
    }
    done = subprocess.run(
        ["bash", str(ROOT / "examples" / "ci" / "try-on-sample.sh"), str(tmp_path / "repo")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    codes = [line.split("exit ")[1][0] for line in done.stdout.splitlines() if "exit " in line]
    assert codes == ["1", "0", "1", "0", "0"]
    assert "24 finding(s) at or above error block the update" in done.stdout
    step5 = (tmp_path / "repo" / "reports" / "step5" / "gate.md").read_text(encoding="utf-8")
    assert "Resolved since the baseline (1)" in step5 and "1201-1011-01" in step5
