#!/usr/bin/env bash
# Find the plan reviewed on the pull request a pushed commit merged, and download it.
#
# usage: fetch-pr-plan.sh COMMIT_SHA DEST_DIR
#
# Looks up the merged PR of COMMIT_SHA, then the plan workflow's run for that PR's last commit:
# a successful `pull_request` run of the workflow file PLAN_WORKFLOW (default steward-plan.yml,
# in .github/workflows/) whose head commit is the PR's head and which lists the PR. Only that
# run's `steward-plan-pr-N` artifact is taken; an artifact of that name from any other workflow,
# event or commit is ignored. Prints the plan's path, or nothing when there is no plan to use;
# that is not an error here: the apply step then fails as it does for a stale plan (unless the
# workflow's on-stale is replan). Sets `plan=PATH` in GITHUB_OUTPUT if
# set. Whatever it downloads, `steward apply --plan` applies only if it is the plan steward makes
# again from the merged files and the tenant.
# For a fleet: PLAN_ARTIFACT names the artifact (default steward-plan-pr-N) and PLAN_NAME the
# plan file in it (default plan.json), e.g. steward-fleet-plan-contoso and contoso.plan.saved.
# Needs: gh (GH_TOKEN with actions: read, pull-requests: read), GITHUB_REPOSITORY.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: fetch-pr-plan.sh COMMIT_SHA DEST_DIR" >&2
  exit 64
fi
sha=$1
dest=$2
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/name}
workflow=${PLAN_WORKFLOW:-steward-plan.yml}
# The workflow is named in an API path and a jq program: a plain file name only.
if ! [[ $workflow =~ ^[A-Za-z0-9._-]+\.ya?ml$ ]]; then
  echo "PLAN_WORKFLOW must be the plan workflow's file name in .github/workflows (e.g. steward-plan.yml), not '$workflow'" >&2
  exit 64
fi

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "plan=$1" >>"$GITHUB_OUTPUT"
  fi
}

# No reviewed plan: say why and let the apply step decide (it refuses unless on-stale: replan).
no_plan() {
  echo "$1: no reviewed plan." >&2
  output ""
  exit 0
}

plan_name=${PLAN_NAME:-plan.json}
# Both are named in API paths, jq programs and file paths: plain names only.
for value in "${PLAN_ARTIFACT:-x}" "$plan_name"; do
  if ! [[ $value =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "PLAN_ARTIFACT and PLAN_NAME must be plain names, not '$value'" >&2
    exit 64
  fi
done

pr=$(gh api "repos/$repo/commits/$sha/pulls" \
  --jq '[.[] | select(.merged_at != null)] | first | select(. != null) | "\(.number) \(.head.sha)"')
if [ -z "$pr" ]; then
  no_plan "No merged pull request for $sha"
fi
number=${pr%% *}
head_sha=${pr#* }
if ! [[ $number =~ ^[0-9]+$ && $head_sha =~ ^[0-9a-f]{40}$ ]]; then
  no_plan "GitHub gave an unexpected pull request ($pr)"
fi
name=${PLAN_ARTIFACT:-steward-plan-pr-$number}

# The newest successful run of the plan workflow itself, for this PR, at its last commit.
run_id=$(gh api "repos/$repo/actions/workflows/$workflow/runs?event=pull_request&head_sha=$head_sha&per_page=100" \
  --jq "[.workflow_runs[]
          | select(.event == \"pull_request\"
                   and .head_sha == \"$head_sha\"
                   and (.path | split(\"@\") | first) == \".github/workflows/$workflow\"
                   and .conclusion == \"success\"
                   and any(.pull_requests[]?; .number == $number))]
        | max_by(.run_number) | select(. != null) | .id")
if [ -z "$run_id" ]; then
  no_plan "No successful run of .github/workflows/$workflow for #$number at its last commit $head_sha"
fi

artifact=$(gh api "repos/$repo/actions/runs/$run_id/artifacts?name=$name" \
  --jq "[.artifacts[]
          | select(.name == \"$name\" and .expired == false
                   and .workflow_run.id == $run_id and .workflow_run.head_sha == \"$head_sha\")]
        | first | select(. != null) | .id")
if [ -z "$artifact" ]; then
  no_plan "Run $run_id of $workflow has no unexpired $name artifact"
fi

mkdir -p "$dest"
gh run download "$run_id" --repo "$repo" --name "$name" --dir "$dest"
if [ ! -f "$dest/$plan_name" ]; then
  no_plan "Artifact $name of run $run_id holds no $plan_name"
fi
echo "Using the plan reviewed on #$number (run $run_id of $workflow)." >&2
echo "$dest/$plan_name"
output "$dest/$plan_name"
