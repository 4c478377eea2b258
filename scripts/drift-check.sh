#!/usr/bin/env bash
# The scheduled drift check: run `steward drift`, then open, update or close the drift issue.
#
# usage: drift-check.sh [POLICY_PATH]
#
# Exits 1 when steward fails (the job goes red and the issue is left alone), else 0: drift is
# reported through the issue, not by failing the job. A drifted tenant's issue also carries its
# SCuBA grade (`steward check --live`), for whoever triages it.
# Signs in as AZURE_CLIENT_ID_PLAN (the read-only app registration) when set, else as
# AZURE_CLIENT_ID.
# Needs: steward (or STEWARD=path), gh, GITHUB_REPOSITORY.
set -uo pipefail

policies=${1:-policies}
steward=${STEWARD:-steward}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

if [ -n "${AZURE_CLIENT_ID_PLAN:-}" ]; then
  export AZURE_CLIENT_ID=$AZURE_CLIENT_ID_PLAN
elif [ -z "${AZURE_CLIENT_ID:-}" ]; then
  # The workflows pass an unset input as empty: unset, steward says the id is missing.
  unset AZURE_CLIENT_ID
fi

"$steward" drift "$policies" --format markdown >"$work/drift.md"
code=$?
cat "$work/drift.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$work/drift.md" >>"$GITHUB_STEP_SUMMARY"
fi
# A usage error (say, a bad STEWARD_CLOUD) exits 64. Only a report is drift: an exit 2 without
# one (an older steward exited 2 on usage errors too) is a failure as well.
if [ "$code" -eq 64 ]; then
  echo "::error::steward drift exited 64: a usage error (a flag or an environment variable)"
  exit 1
fi
if [ "$code" -eq 2 ] && [ "$(head -n 1 "$work/drift.md")" != '<!-- steward-drift -->' ]; then
  echo "::error::steward drift exited 2 without a drift report: a usage error?"
  exit 1
fi
if [ "$code" -eq 2 ]; then
  if "$steward" check "$policies" --live --format markdown --fail-on none >"$work/grade.md" 2>"$work/check.err"; then
    { echo; cat "$work/grade.md"; } >>"$work/drift.md"
  else
    echo "::warning::steward check --live failed; the drift issue has no baseline grade: $(head -c 500 "$work/check.err")"
  fi
fi
"$here/drift-issue.sh" "$code" "$work/drift.md"
