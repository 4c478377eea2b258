#!/usr/bin/env bash
# The scheduled drift check: run `steward drift`, then open, update or close the drift issue.
#
# usage: drift-check.sh [POLICY_PATH]
#
# Exits 1 when steward fails (the job goes red and the issue is left alone), else 0: drift is
# reported through the issue, not by failing the job.
# Needs: steward (or STEWARD=path), gh, GITHUB_REPOSITORY.
set -uo pipefail

policies=${1:-policies}
steward=${STEWARD:-steward}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

"$steward" drift "$policies" --format markdown >"$work/drift.md"
code=$?
cat "$work/drift.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$work/drift.md" >>"$GITHUB_STEP_SUMMARY"
fi
"$here/drift-issue.sh" "$code" "$work/drift.md"
