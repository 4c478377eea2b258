#!/usr/bin/env bash
# The pull-request check: validate the policy files, plan them against the tenant, and post the
# plan as the PR's single steward comment (see pr-comment.sh).
#
# usage: pr-plan.sh PR_NUMBER [POLICY_PATH]
#
# Exits 1 when validation or planning fails, so the check goes red; the comment then says why.
# With FORK=true only validation runs: GitHub gives pull requests from forks neither an OIDC
# token nor a token that may comment, so there is no way to sign in to the tenant.
# Writes the saved plan to PLAN_OUT (default plan.json) for the apply-on-merge workflow.
# Needs: steward (or STEWARD=path), gh and GITHUB_REPOSITORY unless FORK=true.
set -uo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
  echo "usage: pr-plan.sh PR_NUMBER [POLICY_PATH]" >&2
  exit 64
fi
pr=$1
policies=${2:-policies}
steward=${STEWARD:-steward}
plan_out=${PLAN_OUT:-plan.json}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# Writes a comment body: the marker, a heading, then the command's output in a code block.
failure_body() {
  {
    echo '<!-- steward-plan -->'
    echo "### steward plan: $1"
    echo
    echo "$2"
    echo
    echo '```'
    # Keep well inside GitHub's 65,536-character comment limit.
    head -c 60000 "$3"
    echo
    echo '```'
  } >"$work/body.md"
}

echo "== steward validate $policies"
"$steward" validate "$policies" >"$work/validate.txt" 2>&1
validate=$?
cat "$work/validate.txt"
if [ "$validate" -ne 0 ]; then
  echo "::error::steward validate found errors in $policies"
  failure_body "validation failed" "\`steward validate\` found errors; nothing was planned." "$work/validate.txt"
  summary "$work/body.md"
  if [ "${FORK:-false}" != true ]; then
    "$here/pr-comment.sh" "$pr" "$work/body.md" || echo "::warning::could not post the PR comment"
  fi
  exit 1
fi

if [ "${FORK:-false}" = true ]; then
  note="This pull request comes from a fork. GitHub gives workflows on fork pull requests no OIDC token (id-token: write) and a read-only GITHUB_TOKEN, so steward cannot sign in to the tenant: only validation ran. To see the plan, a maintainer can push the branch to this repository."
  echo "::notice title=steward: validation only::$note"
  {
    echo "### steward: validation only"
    echo
    echo "$note"
  } >"$work/note.md"
  summary "$work/note.md"
  exit 0
fi

echo "== steward plan $policies"
"$steward" plan "$policies" --format markdown --out "$plan_out" >"$work/plan.md" 2>"$work/plan.err"
plan=$?
cat "$work/plan.err" >&2
if [ "$plan" -ne 0 ]; then
  echo "::error::steward plan failed (exit $plan)"
  failure_body "failed" "\`steward plan\` failed; see the error below and the job log." "$work/plan.err"
  summary "$work/body.md"
  "$here/pr-comment.sh" "$pr" "$work/body.md" || echo "::warning::could not post the PR comment"
  exit 1
fi
cat "$work/plan.md"
summary "$work/plan.md"
"$here/pr-comment.sh" "$pr" "$work/plan.md"
