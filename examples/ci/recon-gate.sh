#!/usr/bin/env bash
# The roster gate as a CI step, for any CI system (the GitHub workflow beside it calls
# this). Copy it into the repository that holds the roster, e.g. as ci/recon-gate.sh.
#
# The last accepted roster is the same files at RECON_BASE_REF (default HEAD~1; in a
# pull request, the base commit): only what this update introduces can fail the gate.
#
# Exit codes (recon SPEC §7): 0 accept the update, 1 blocked by a new finding,
# 2 the gate cannot decide (unreadable input, unknown revision, bad waivers file).
#
# Settings (environment):
#   RECON           the command to run recon          (default: recon)
#   RECON_ROSTER    the roster in the repository       (default: roster/roster.csv)
#   RECON_FILINGS   the employer's My Number filings   (default: roster/filings.csv)
#   RECON_WAIVERS   accepted exceptions, if the file exists (default: roster/waivers.toml)
#   RECON_BASE_REF  the last accepted revision         (default: HEAD~1)
#   RECON_OUT       the run's output folder            (default: reports/gate)
#   RECON_AS_OF     the run date YYYY-MM-DD            (default: today)
# Arguments are passed on to `recon gate` (e.g. --fail-on warning, --lang en, --strict).
set -euo pipefail

read -r -a recon <<<"${RECON:-recon}"
roster=${RECON_ROSTER:-roster/roster.csv}
filings=${RECON_FILINGS:-roster/filings.csv}
waivers=${RECON_WAIVERS:-roster/waivers.toml}
base=${RECON_BASE_REF:-HEAD~1}
out=${RECON_OUT:-reports/gate}

args=(--roster "$roster" --filings "$filings" --out "$out"
  --junit "$out-junit.xml" --summary "$out-summary.md")
if [[ -n "${RECON_AS_OF:-}" ]]; then
  args+=(--as-of "$RECON_AS_OF")
fi
# No earlier revision (the first commit, a new branch, a shallow clone): no baseline,
# so every finding counts as new. Stricter, never looser.
if git rev-parse --quiet --verify "${base}^{commit}" >/dev/null; then
  args+=(--baseline-ref "$base")
  # Also when this update deletes the file: what the old waivers waived must not
  # pass as accepted once they are gone.
  if [[ -f "$waivers" ]] || git cat-file -e "${base}:./${waivers}" 2>/dev/null; then
    args+=(--waivers "$waivers")
  fi
else
  echo "recon-gate: no revision ${base}: every finding counts as new" >&2
  if [[ -f "$waivers" ]]; then
    args+=(--waivers "$waivers")
  fi
fi

exec "${recon[@]}" gate "${args[@]}" "$@"
