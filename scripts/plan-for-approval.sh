#!/usr/bin/env bash
# Plan for approval, when the apply workflow is run by hand (workflow_dispatch): plan the files
# against the tenant, save the plan for the apply job, and show it in the run's summary, where
# the reviewers of the apply job's GitHub environment read it before they approve. The apply job
# then applies exactly this plan (apply.sh), or refuses it if the tenant changed meanwhile.
#
# usage: plan-for-approval.sh [POLICY_PATH]
#
# ENVIRONMENT: the GitHub environment the apply job waits in. It must have required reviewers
# (checked through the API), or nobody would approve the plan: unless ON_STALE=replan (unreviewed
# applies accepted), a missing environment or one without reviewers fails before planning.
# Writes the saved plan to PLAN_OUT (default plan.json); sets `changes=true|false` in
# GITHUB_OUTPUT (false: nothing to approve or apply). Exits 1 when planning fails.
# Signs in as AZURE_CLIENT_ID_PLAN (the read-only app registration) when set, else as
# AZURE_CLIENT_ID.
# Needs: steward (or STEWARD=path); gh (GH_TOKEN with actions: read), jq and GITHUB_REPOSITORY
# unless ON_STALE=replan.
set -uo pipefail

if [ "$#" -gt 1 ]; then
  echo "usage: plan-for-approval.sh [POLICY_PATH]" >&2
  exit 64
fi
policies=${1:-policies}
steward=${STEWARD:-steward}
plan_out=${PLAN_OUT:-plan.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

if [ -n "${AZURE_CLIENT_ID_PLAN:-}" ]; then
  export AZURE_CLIENT_ID=$AZURE_CLIENT_ID_PLAN
elif [ -z "${AZURE_CLIENT_ID:-}" ]; then
  # The workflows pass an unset input as empty: unset, steward says the id is missing.
  unset AZURE_CLIENT_ID
fi

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat >>"$GITHUB_STEP_SUMMARY"
  else
    cat >/dev/null
  fi
}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "changes=$1" >>"$GITHUB_OUTPUT"
  fi
}

# Succeeds when ENVIRONMENT has required reviewers; else prints why not and fails.
approval_environment() {
  if [ -z "${ENVIRONMENT:-}" ]; then
    echo "The apply workflow has no environment input to wait for approval in."
    return 1
  fi
  if [ -z "${GITHUB_REPOSITORY:-}" ]; then
    echo "GITHUB_REPOSITORY is not set, so the environment $ENVIRONMENT cannot be checked."
    return 1
  fi
  local name reviewers
  name=$(jq -rn --arg e "$ENVIRONMENT" '$e | @uri') || return 1
  if ! reviewers=$(gh api "repos/$GITHUB_REPOSITORY/environments/$name" \
    --jq '[.protection_rules[]? | select(.type == "required_reviewers")] | length'); then
    echo "The environment $ENVIRONMENT could not be read (it does not exist yet, or the token lacks actions: read)."
    return 1
  fi
  if [ "$reviewers" = 0 ] || [ -z "$reviewers" ]; then
    echo "The environment $ENVIRONMENT has no required reviewers."
    return 1
  fi
}

# Fails closed: anything but a checked environment stops here.
if [ "${ON_STALE:-fail}" != replan ] && ! why=$(approval_environment); then
  message="${why:-The approval environment could not be checked.} Running the apply workflow by hand plans, then waits for a reviewer of its GitHub environment to approve that plan before applying it; without required reviewers nobody would review it, so nothing was planned. Create the environment (Settings, Environments), add required reviewers, and pass its name as the apply workflow's environment input."
  echo "::error title=steward needs an approval environment::$message"
  printf '### steward: nothing planned\n\n%s\n' "$message" | summary
  exit 1
fi

rm -f -- "$plan_out"
echo "== steward plan $policies"
"$steward" plan "$policies" --format markdown --out "$plan_out" --detailed-exitcode >"$work/plan.md"
code=$?
cat "$work/plan.md"
case $code in
  0)
    output false
    echo "::notice title=steward: no changes::The tenant matches the files: nothing to approve or apply."
    summary <"$work/plan.md"
    ;;
  2)
    output true
    if [ -n "${ENVIRONMENT:-}" ]; then
      next="Review this plan. The apply job waits for approval in the environment \`$ENVIRONMENT\`; once approved it applies exactly this plan, or refuses it if the tenant changed meanwhile."
    else
      next="No environment to approve in and \`on-stale\` is \`replan\`: the apply job applies this plan without review."
    fi
    printf '%s\n\n---\n\n%s\n' "$(cat "$work/plan.md")" "$next" | summary
    ;;
  *)
    echo "::error::steward plan failed (exit $code)"
    exit 1
    ;;
esac
