#!/usr/bin/env bash
# Try the CI gate on recon's sample data: builds a throwaway git repository holding the
# sample roster, commits four monthly updates on top of it, and runs recon-gate.sh (what
# the example workflow runs) on each commit, as CI would. Prints each step's exit code.
#
#   examples/ci/try-on-sample.sh [FOLDER]      # FOLDER must not exist; default: a temp folder
#
# As in a pull-request flow, `main` holds the last accepted roster and each update is
# compared with it (RECON_BASE_REF=main); `main` moves only when the gate passes, so a
# blocked update never becomes the baseline of the next one. The first commit has no
# earlier revision and starts `main` whatever its result: its errors are the backlog the
# society already knows, and only what later updates add to it can fail them.
#
# Expected (README, "The gate (`recon gate`)"):
#   1 the sample roster, first commit ............ exit 1  (no baseline: its 26 errors are new)
#   2 a new hire, filed correctly ................ exit 0  (1 member added, nothing new)
#   3 his spouse, filed with a wrong birth date .. exit 1  (1 new match.birth_date)
#   4 a waiver for it, until 30 days from today .. exit 0  (the same finding, new but waived)
#   5 re-filed correctly, waiver removed ......... exit 0  (1 resolved)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sample=${RECON_SAMPLE:-$here/../../sample_data}
python=${PYTHON:-python3}
repo=${1:-$(mktemp -d)/roster-repo}
export RECON=${RECON:-recon}
export RECON_AS_OF=${RECON_AS_OF:-2025-06-30}
export RECON_GATE_KEY=${RECON_GATE_KEY:-try-on-sample-not-a-real-key}

mkdir "$repo"
cd "$repo"
git init -q -b main
git config user.name "roster demo"
git config user.email "roster-demo@example.invalid"
mkdir roster
printf 'reports/\n' >.gitignore
cp "$sample/roster.csv" "$sample/filings.csv" roster/

# The roster is Shift_JIS with CRLF (as the society's system exports it); filings are UTF-8.
append() {
  "$python" - "$@" <<'PY'
import sys
path, encoding, end, line = sys.argv[1:]
with open(path, "a", encoding=encoding, newline="") as handle:
    handle.write(line + {"crlf": "\r\n", "lf": "\n"}[end])
PY
}

codes=()
base=HEAD~1 # the first commit: no earlier revision, so no baseline
step() {
  git add -A
  git commit -q -m "$1"
  set +e
  RECON_BASE_REF=$base RECON_OUT="reports/step$((${#codes[@]} + 1))" \
    "$here/recon-gate.sh" >"reports-step.log" 2>&1
  local code=$?
  set -e
  codes+=("$code")
  if [[ $code -eq 0 ]]; then
    git update-ref refs/heads/main HEAD # accepted: merged into main
  fi
  printf 'step %d: %-44s exit %d   %s\n' "${#codes[@]}" "$1" "$code" \
    "$(grep -E '^gate: (pass|FAIL)' reports-step.log || tail -n 1 reports-step.log)"
  rm -f reports-step.log
}

step "the sample roster (first commit)"
git checkout -q -b update # the updates, proposed one commit at a time
base=main

append roster/roster.csv cp932 crlf \
  "06139919,1201,1011,00,本人,中島　翼,ナカジマ　ツバサ,H8.4.2,男,1000005,東京都千代田区丸の内一丁目1番1号,R7.4.1,,E1011,国内,,,,,保有,はい,,,"
append roster/filings.csv utf-8 lf "E1011,self,中島 翼,ナカジマ ツバサ,1996-04-02,1,,900000000508,2025-04-10,"
step "a new hire, filed correctly"

append roster/roster.csv cp932 crlf \
  "06139919,1201,1011,01,妻,中島　葵,ナカジマ　アオイ,H9.9.9,女,1000005,東京都千代田区丸の内一丁目1番1号,R7.6.1,,E1011,国内,,,,,保有,はい,,,"
append roster/filings.csv utf-8 lf "E1011,spouse,中島 葵,ナカジマ アオイ,1997-09-19,2,,900000000516,2025-06-10,"
step "his spouse, filed with a wrong birth date"

expires=$("$python" -c 'import datetime as d; print(d.date.today() + d.timedelta(days=30))')
cat >roster/waivers.toml <<TOML
[[waiver]]
check = "match.birth_date"
member_id = "1201-1011-01"
reason = "Birth date on the koseki is 1997-09-09; the employer re-files this month"
approved_by = "適用課 佐藤"
expires_on = $expires
TOML
step "a waiver for it, until $expires"

sed -i.bak 's/^E1011,spouse,\(.*\),1997-09-19,/E1011,spouse,\1,1997-09-09,/' roster/filings.csv
rm -f roster/filings.csv.bak roster/waivers.toml
step "re-filed correctly, waiver removed"

echo "repository: $repo (reports in $repo/reports/)"
[[ "${codes[*]}" == "1 0 1 0 0" ]]
