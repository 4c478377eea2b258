#!/usr/bin/env bash
# One tenant's job of a fleet workflow: plan it, check it for drift, or apply it.
#
# usage: fleet-run.sh plan|drift|apply FLEET_PATH TENANT REPORT_DIR
#
#   plan   `steward plan --tenant TENANT --format json` into REPORT_DIR/TENANT.plan.json, and the
#          saved plan (`--out`) into REPORT_DIR/TENANT.plan.saved, for apply on merge
#   drift  `steward drift --tenant TENANT --format json` into REPORT_DIR/TENANT.drift.json
#   apply  with PLAN_FROM_PR=true (after a merge): `steward apply --tenant TENANT --plan PLAN_FILE`,
#          the plan reviewed on the pull request, applied only if planning again gives exactly it;
#          without one, it fails unless ON_STALE=replan. Otherwise (run by hand, or replan):
#          `--auto-approve`, the workflow's environment (its required reviewers) being the
#          approval. Its log in REPORT_DIR/TENANT.apply.log and its journal in
#          REPORT_DIR/TENANT.journal.jsonl
#
# Exit 0 when steward exits 0, or 2 (changes or drift) with a JSON report: changes are what a plan
# is for and drift goes to the tenant's issue, so neither fails the job. Anything else exits 1
# and leaves no report, so that `steward report merge` lists the tenant as failed instead of
# reading half a report. Writes `code=N` (steward's exit code) to GITHUB_OUTPUT.
# Signs in as AZURE_CLIENT_ID_PLAN (plan, drift) or AZURE_CLIENT_ID_APPLY (apply) when set, else
# as AZURE_CLIENT_ID; the tenant's id comes from its tenant.kdl.
# Needs: steward (or STEWARD=path), jq.
set -uo pipefail

if [ "$#" -ne 4 ]; then
  echo "usage: fleet-run.sh plan|drift|apply FLEET_PATH TENANT REPORT_DIR" >&2
  exit 64
fi
kind=$1
fleet=$2
tenant=$3
dir=$4
steward=${STEWARD:-steward}
export NO_COLOR=1

case $kind in
  plan | drift) role=${AZURE_CLIENT_ID_PLAN:-} ;;
  apply) role=${AZURE_CLIENT_ID_APPLY:-} ;;
  *)
    echo "fleet-run.sh: plan, drift or apply, not '$kind'" >&2
    exit 64
    ;;
esac
# The name becomes file and artifact names, and `report merge` takes a report's tenant to be its
# file name up to the first dot: a name with a dot or a slash would be read as another tenant.
if ! [[ $tenant =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]]; then
  echo "::error title=steward $kind::tenant name '$tenant' must be letters, digits, - and _"
  exit 64
fi
if [ -n "$role" ]; then
  export AZURE_CLIENT_ID=$role
elif [ -z "${AZURE_CLIENT_ID:-}" ]; then
  # The workflows pass an unset input as empty: unset, steward says the id is missing.
  unset AZURE_CLIENT_ID
fi
mkdir -p "$dir"

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "code=$1" >>"$GITHUB_OUTPUT"
  fi
}

if [ "$kind" = apply ]; then
  approval=(--auto-approve)
  if [ "${PLAN_FROM_PR:-false}" = true ]; then
    if [ -n "${PLAN_FILE:-}" ] && [ -f "$PLAN_FILE" ]; then
      approval=(--plan "$PLAN_FILE")
    elif [ "${ON_STALE:-fail}" != replan ]; then
      echo "::error title=steward apply $tenant::no plan reviewed on the pull request for $tenant; plan it in a pull request, or run with on-stale: replan"
      output 1
      exit 1
    fi
  fi
  echo "== steward apply $fleet --tenant $tenant ${approval[*]}"
  "$steward" apply "$fleet" --tenant "$tenant" "${approval[@]}" \
    --journal "$dir/$tenant.journal.jsonl" 2>&1 | tee "$dir/$tenant.apply.log"
  code=${PIPESTATUS[0]}
  output "$code"
  if [ "$code" -ne 0 ]; then
    echo "::error title=steward apply $tenant::steward apply exited $code; the journal artifact says which changes went through"
    exit 1
  fi
  exit 0
fi

report="$dir/$tenant.$kind.json"
rm -f -- "$report"
extra=()
if [ "$kind" = plan ]; then
  extra=(--out "$dir/$tenant.plan.saved")
fi
echo "== steward $kind $fleet --tenant $tenant --format json ${extra[*]}"
"$steward" "$kind" "$fleet" --tenant "$tenant" --format json "${extra[@]}" >"$report.partial"
code=$?
output "$code"
if { [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; } &&
  jq -e 'type == "object"' "$report.partial" >/dev/null 2>&1; then
  mv -- "$report.partial" "$report"
  echo "steward $kind $tenant: exit $code, report in $report"
  exit 0
fi
rm -f -- "$report.partial"
if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then
  echo "::error title=steward $kind $tenant::steward $kind exited $code without a JSON report"
else
  echo "::error title=steward $kind $tenant::steward $kind exited $code; see the log above"
fi
exit 1
