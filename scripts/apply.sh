#!/usr/bin/env bash
# Apply on merge: apply the plan that was reviewed, and only that.
#
# usage: apply.sh [POLICY_PATH] [PLAN_FILE]
#
# `steward apply --plan` applies a saved plan exactly, and refuses it as stale (exit 1, "the
# saved plan is stale: WHAT CHANGED") when the files or the tenant changed since it was made.
# A stale plan, or no plan at all, fails the job with a message saying what changed and how to
# re-plan, and nothing is applied: steward never applies a plan nobody reviewed unless told to.
# ON_STALE=replan (the apply workflow's `on-stale: replan`) is that opt-in: plan again and apply
# at once with --auto-approve, unreviewed, with a warning. Any other failure, partial ones
# included, exits 1 with an error annotation: the journal (.steward/journal.jsonl) says which
# changes went through.
#
# Signs in as AZURE_CLIENT_ID_APPLY (the app registration allowed to write) when set, else as
# AZURE_CLIENT_ID.
# Needs: steward (or STEWARD=path).
set -uo pipefail

policies=${1:-policies}
plan=${2:-}
steward=${STEWARD:-steward}
on_stale=${ON_STALE:-fail}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

if [ -n "${AZURE_CLIENT_ID_APPLY:-}" ]; then
  export AZURE_CLIENT_ID=$AZURE_CLIENT_ID_APPLY
elif [ -z "${AZURE_CLIENT_ID:-}" ]; then
  # The workflows pass an unset input as empty: unset, steward says the id is missing.
  unset AZURE_CLIENT_ID
fi

case $on_stale in
  fail | replan) ;;
  *)
    echo "::error title=steward apply::on-stale must be fail or replan, not '$on_stale'."
    exit 64
    ;;
esac

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat >>"$GITHUB_STEP_SUMMARY"
  else
    cat >/dev/null
  fi
}

# A workflow command's message on one line: GitHub's escapes for %, CR and LF.
escaped() {
  local s=${1//'%'/%25}
  s=${s//$'\r'/%0D}
  printf '%s' "${s//$'\n'/%0A}"
}

fail() {
  echo "::error title=steward apply failed::$1 See the job log and the journal artifact for what was applied."
  printf '### steward apply failed\n\n%s\n' "$1" | summary
  exit 1
}

# How to get a reviewed plan again; a run started by hand has no pull request to re-run.
replan_help() {
  if [ "${GITHUB_EVENT_NAME:-}" != workflow_dispatch ]; then
    cat <<'EOF'
- **Re-run the pull request's plan.** On the merged pull request, open the failed or outdated
  `steward plan` check and choose *Re-run jobs*; review the updated plan comment, then re-run
  this workflow, which applies that plan. This helps when only the tenant changed: if the files
  on the branch are not the ones the pull request planned (another change was merged meanwhile,
  or there was no pull request), plan by hand instead.
EOF
  fi
  cat <<'EOF'
- **Plan by hand and approve.** *Actions → steward apply → Run workflow*: the run plans the
  files on the branch, shows the plan in its summary and waits for a reviewer of its GitHub
  environment (the `environment` input) to approve, then applies exactly that plan.

To plan again and apply at once without review instead, set `on-stale: replan` on the apply
workflow.
EOF
}

# Fails, or with ON_STALE=replan falls through to a fresh, unreviewed apply.
no_reviewed_plan() {
  local title=$1 what=$2
  if [ "$on_stale" = replan ]; then
    echo "::warning title=steward applies an unreviewed plan::$(escaped "$what") on-stale is replan: planning again and applying that without review."
    summary <<EOF
### steward apply: applying an unreviewed plan

$what \`on-stale\` is \`replan\`: steward planned again and applied that without review; the
job log shows the plan it applied.
EOF
    return
  fi
  echo "::error title=$title::$(escaped "$what") Nothing was applied. The job summary says how to re-plan and approve."
  {
    printf '### steward apply: %s\n\n%s Nothing was applied: steward applies only a plan that was reviewed.\n\nTo apply these files:\n\n' "$title" "$what"
    replan_help
  } | summary
  echo "To apply these files:"
  replan_help
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
  # Only the wording's stable start is relied on; what follows says what changed.
  stale=$(grep -m 1 -o 'the saved plan is stale.*' "$work/apply.err")
  if [ "$code" -ne 1 ] || [ -z "$stale" ]; then
    fail "steward apply --plan exited $code."
  fi
  # What changed is what follows the prefix. steward's own advice is for a terminal;
  # replan_help says what to do in a workflow.
  what=${stale%%; run \`steward plan*}
  what=${what#the saved plan is stale}
  what=${what#:}
  what=${what# }
  no_reviewed_plan "the reviewed plan is stale" "The reviewed plan is stale${what:+: $what}."
else
  no_reviewed_plan "no reviewed plan" "No reviewed plan was found for this commit (pushed without a pull request, a pull request whose plan check failed or was not re-run after its last push, or an expired plan artifact)."
fi

echo "== steward apply --auto-approve"
"$steward" apply "$policies" --auto-approve
code=$?
if [ "$code" -ne 0 ]; then
  fail "steward apply --auto-approve exited $code."
fi
