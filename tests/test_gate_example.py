"""The README's CI example, run here on the sample data: each step's documented exit code."""

from __future__ import annotations

import json
import os
import re
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
        "RECON_LANG": "en",  # its assertions read the English texts
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
    assert "26 finding(s) at or above error block the update" in done.stdout
    # Step 4 passes by its waiver: compared with the last accepted commit, not the blocked one.
    step4 = json.loads((tmp_path / "repo" / "reports" / "step4" / "gate.json").read_text("utf-8"))
    (waived,) = [f for f in step4["findings"] if f["waived"]]
    assert (waived["check"], waived["member_id"], waived["status"]) == (
        "match.birth_date",
        "1201-1011-01",
        "new",
    )
    step5 = (tmp_path / "repo" / "reports" / "step5" / "gate.md").read_text(encoding="utf-8")
    assert "Resolved since the baseline (1)" in step5 and "1201-1011-01" in step5
    # The README documents the same sequence as the script's comments.
    script = (ROOT / "examples" / "ci" / "try-on-sample.sh").read_text(encoding="utf-8")
    documented = re.findall(r"^#   \d .*\.\. exit (\d)", script, re.M)
    assert documented == codes
    assert "`1 0 1 0 0`" in (ROOT / "README.md").read_text(encoding="utf-8")
