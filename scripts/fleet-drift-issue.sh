#!/usr/bin/env bash
# Keep one issue per drifted tenant of a fleet: drift-issue.sh, with the tenant's name in the
# issue's marker and title, so each tenant's issue is opened, updated and closed on its own.
#
# usage: fleet-drift-issue.sh TENANT DRIFT_EXIT_CODE REPORT_JSON
#
# The body is the tenant's row of `steward report merge` and its JSON drift report. The marker is
# `<!-- steward-drift tenant=TENANT -->`: it never matches the single-tenant workflow's issue, nor
# another tenant's whose name starts the same (the marker ends with ` -->`).
# Needs: steward (or STEWARD=path), gh, jq, GITHUB_REPOSITORY; DRIFT_LABEL as drift-issue.sh.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: fleet-drift-issue.sh TENANT DRIFT_EXIT_CODE REPORT_JSON" >&2
  exit 64
fi
tenant=$1
code=$2
report=$3
steward=${STEWARD:-steward}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

if ! [[ $tenant =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]]; then
  echo "fleet-drift-issue.sh: tenant name '$tenant' must be letters, digits, - and _" >&2
  exit 64
fi
marker="<!-- steward-drift tenant=$tenant -->"

if [ "$code" = 2 ]; then
  {
    echo "$marker"
    # The summary's own first line is the fleet marker; this issue is recognised by the tenant's.
    "$steward" report merge "$report" --format markdown | tail -n +2 || true
    echo
    echo "<details><summary>The drift report (steward drift --format json)</summary>"
    echo
    echo '```json'
    # Keep well inside GitHub's 65,536-character issue body limit.
    head -c 50000 "$report"
    echo
    echo '```'
    echo
    echo "</details>"
  } >"$work/body.md"
fi

DRIFT_MARKER=$marker \
  DRIFT_TITLE="Tenant drift: $tenant: settings changed outside steward" \
  "$here/drift-issue.sh" "$code" "$work/body.md"
