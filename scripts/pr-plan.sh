#!/usr/bin/env bash
# The pull-request check: validate the policy files, plan them against the tenant, and post the
# plan as the PR's single steward comment (see pr-comment.sh).
#
# usage: pr-plan.sh PR_NUMBER [POLICY_PATH]
#
# Exits 1 when validation or planning fails, so the check goes red; the comment then says why.
# A pull request from another repository (a fork) gets validation only: GitHub gives it neither
# an OIDC token nor a token that may comment, so there is no way to sign in to the tenant. It is
# told apart by the event (GITHUB_EVENT_PATH): the head repository's full name differs from the
# base's. (`head.repo.fork` would not do: it is true for every pull request in a repository that
# is itself a fork.) Sets `fork=true|false` in GITHUB_OUTPUT, for the upload of the plan.
# Writes the saved plan to PLAN_OUT (default plan.json) for the apply-on-merge workflow, and
# removes any file of that name first, so that a failed plan leaves nothing to upload.
# Writes the SCuBA grade of the files as SARIF to SARIF_OUT (default steward.sarif), for code
# scanning, and adds to the comment which baseline policy ids the change makes pass or fail.
# Signs in as AZURE_CLIENT_ID_PLAN (the read-only app registration) when set, else as
# AZURE_CLIENT_ID.
# Needs: steward (or STEWARD=path), jq; gh and GITHUB_REPOSITORY unless from a fork.
set -uo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
  echo "usage: pr-plan.sh PR_NUMBER [POLICY_PATH]" >&2
  exit 64
fi
pr=$1
policies=${2:-policies}
steward=${STEWARD:-steward}
plan_out=${PLAN_OUT:-plan.json}
sarif_out=${SARIF_OUT:-steward.sarif}
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

# Outside a pull_request event (run by hand) there is no head repository: not a fork. A head
# repository that was deleted (null) is a fork's.
fork=false
if [ -n "${GITHUB_EVENT_PATH:-}" ]; then
  if ! fork=$(jq -r '
      if .pull_request == null then false
      else ((.pull_request.head.repo.full_name // "") | ascii_downcase)
        != (.pull_request.base.repo.full_name | ascii_downcase)
      end' "$GITHUB_EVENT_PATH"); then
    echo "::error::cannot read the pull request event $GITHUB_EVENT_PATH"
    exit 1
  fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "fork=$fork" >>"$GITHUB_OUTPUT"
fi
rm -f -- "$plan_out"

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
  if [ "$fork" != true ]; then
    "$here/pr-comment.sh" "$pr" "$work/body.md" || echo "::warning::could not post the PR comment"
  fi
  exit 1
fi

if [ "$fork" = true ]; then
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

echo "== steward check $policies --format sarif"
"$steward" check "$policies" --format sarif --fail-on none >"$sarif_out" 2>"$work/check.err" ||
  echo "::warning::steward check could not grade the files: $(head -c 500 "$work/check.err")"

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
# The baseline's delta belongs with the plan, not in the way of it: a failure is a warning.
if "$steward" check "$policies" --planned --delta --fail-on none >"$work/baseline.md" 2>"$work/check.err"; then
  if [ -s "$work/baseline.md" ]; then
    { echo; cat "$work/baseline.md"; } >>"$work/plan.md"
  fi
else
  echo "::warning::steward check --planned failed; the comment has no Baseline section: $(head -c 500 "$work/check.err")"
fi
cat "$work/plan.md"
summary "$work/plan.md"
"$here/pr-comment.sh" "$pr" "$work/plan.md"
