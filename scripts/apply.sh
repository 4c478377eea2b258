#!/usr/bin/env bash
# Apply on merge: apply the plan reviewed on the pull request if it is still fresh, else plan
# again and apply that.
#
# usage: apply.sh [POLICY_PATH] [PLAN_FILE]
#
# `steward apply --plan` refuses a stale plan (the files or the tenant changed since it was made)
# with exit 1 and a message saying so; only that case falls back to a fresh apply. Any other
# failure, partial ones included, exits 1 with an error annotation: the journal
# (.steward/journal.jsonl) says which changes went through.
# Needs: steward (or STEWARD=path).
set -uo pipefail

policies=${1:-policies}
plan=${2:-}
steward=${STEWARD:-steward}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

fail() {
  echo "::error title=steward apply failed::$1 See the job log and the journal artifact for what was applied."
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '### steward apply failed\n\n%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
  exit 1
}

if [ -n "$plan" ] && [ -f "$plan" ]; then
  echo "== steward apply --plan $plan"
  "$steward" apply "$policies" --plan "$plan" 2>"$work/apply.err"
  code=$?
  cat "$work/apply.err" >&2
  if [ "$code" -eq 0 ]; then
    exit 0
  fi
  if [ "$code" -ne 1 ] || ! grep -qi 'stale' "$work/apply.err"; then
    fail "steward apply --plan exited $code."
  fi
  echo "::notice::The reviewed plan is stale (the files or the tenant changed since it was made); planning again."
else
  echo "No reviewed plan to apply; planning afresh."
fi

echo "== steward apply --auto-approve"
"$steward" apply "$policies" --auto-approve
code=$?
if [ "$code" -ne 0 ]; then
  fail "steward apply --auto-approve exited $code."
fi
