#!/usr/bin/env bash
# The last job of a fleet workflow: merge the tenants' reports into one summary, for the run's
# step summary and, for a plan, the pull request's single fleet comment (see pr-comment.sh).
#
# usage: fleet-report.sh plan|drift REPORT_DIR [PR_NUMBER]
#
# TENANTS is the JSON array of the tenants the matrix ran (fleet-tenants.sh's `tenants`). Each
# one's report, REPORT_DIR/TENANT.KIND.json, is handed to `steward report merge` whether it was
# downloaded or not: a tenant whose job failed has none, and the merge lists it as failed rather
# than leaving it out. With no tenant (a pull request that touches none), the comment says so,
# replacing an earlier push's.
# BATCH (the workflow's batch input) gives each batch's comment a marker of its own,
# `<!-- steward-fleet batch=N -->`, so one call per batch of a large fleet keeps one comment each
# instead of overwriting each other's.
# Exits 0 when the summary was written (and posted), whatever it says; 1 when it could not be.
# Needs: steward (or STEWARD=path), jq; gh and GITHUB_REPOSITORY with a PR_NUMBER.
set -uo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  echo "usage: fleet-report.sh plan|drift REPORT_DIR [PR_NUMBER]" >&2
  exit 64
fi
kind=$1
dir=$2
pr=${3:-}
steward=${STEWARD:-steward}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
fleet_marker='<!-- steward-fleet -->'
marker=$fleet_marker
if [ -n "${BATCH:-}" ]; then
  marker="<!-- steward-fleet batch=$BATCH -->"
fi

case $kind in
  plan | drift) ;;
  *)
    echo "fleet-report.sh: plan or drift, not '$kind'" >&2
    exit 64
    ;;
esac
if ! mapfile -t tenants < <(jq -er '.[] | strings' <<<"${TENANTS:-[]}"); then
  echo "::error::TENANTS must be a JSON array of tenant names, got '${TENANTS:-}'"
  exit 1
fi

run_url=""
if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
  run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi

if [ "${#tenants[@]}" -eq 0 ]; then
  printf '%s\n### steward: no tenant to %s\n\nNo tenant'"'"'s files changed.\n' "$marker" "$kind" >"$work/summary.md"
else
  files=()
  for tenant in "${tenants[@]}"; do
    files+=("$dir/$tenant.$kind.json")
  done
  "$steward" report merge "${files[@]}" --format markdown >"$work/summary.md" 2>"$work/merge.err"
  code=$?
  cat "$work/merge.err" >&2
  # 2 is a summary with tenants needing attention: a summary all the same.
  if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then
    echo "::error::steward report merge failed (exit $code)"
    exit 1
  fi
  if [ "$(head -n 1 "$work/summary.md")" != "$fleet_marker" ]; then
    echo "::error::steward report merge printed no fleet summary"
    exit 1
  fi
  if [ "$marker" != "$fleet_marker" ]; then
    { echo "$marker"; tail -n +2 "$work/summary.md"; echo; echo "Batch $BATCH of the fleet."; } >"$work/batch.md"
    mv "$work/batch.md" "$work/summary.md"
  fi
  if [ -n "$run_url" ]; then
    printf '\nEach tenant'"'"'s log and report: %s\n' "$run_url" >>"$work/summary.md"
  fi
fi

cat "$work/summary.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$work/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "$pr" ]; then
  STEWARD_MARKER=$marker "$here/pr-comment.sh" "$pr" "$work/summary.md" || exit 1
fi
