#!/usr/bin/env bash
# Find the plan reviewed on the pull request a pushed commit merged, and download it.
#
# usage: fetch-pr-plan.sh COMMIT_SHA DEST_DIR
#
# Looks up the merged PR of COMMIT_SHA, then the newest `steward-plan-pr-N` artifact; downloads
# it into DEST_DIR only if it was made from the PR's last commit (an older one would not be the
# plan reviewers saw last). Prints the plan's path, or nothing when there is no plan to use; that
# is not an error: the apply step then plans afresh. Sets `plan=PATH` in GITHUB_OUTPUT if set.
# Needs: gh (GH_TOKEN with actions: read, pull-requests: read), GITHUB_REPOSITORY.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: fetch-pr-plan.sh COMMIT_SHA DEST_DIR" >&2
  exit 64
fi
sha=$1
dest=$2
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/name}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "plan=$1" >>"$GITHUB_OUTPUT"
  fi
}

pr=$(gh api "repos/$repo/commits/$sha/pulls" \
  --jq '[.[] | select(.merged_at != null)] | first | select(. != null) | "\(.number) \(.head.sha)"')
if [ -z "$pr" ]; then
  echo "No merged pull request for $sha: planning afresh." >&2
  output ""
  exit 0
fi
number=${pr%% *}
head_sha=${pr#* }
name="steward-plan-pr-$number"

run=$(gh api "repos/$repo/actions/artifacts?name=$name&per_page=1" \
  --jq '.artifacts | first | select(. != null and .expired == false) | "\(.workflow_run.id) \(.workflow_run.head_sha)"')
if [ -z "$run" ]; then
  echo "No unexpired $name artifact: planning afresh." >&2
  output ""
  exit 0
fi
run_id=${run%% *}
run_sha=${run#* }
if [ "$run_sha" != "$head_sha" ]; then
  echo "The newest $name was made from $run_sha, not the PR's last commit $head_sha: planning afresh." >&2
  output ""
  exit 0
fi

mkdir -p "$dest"
gh run download "$run_id" --repo "$repo" --name "$name" --dir "$dest"
if [ ! -f "$dest/plan.json" ]; then
  echo "Artifact $name of run $run_id holds no plan.json: planning afresh." >&2
  output ""
  exit 0
fi
echo "Using the plan reviewed on #$number (run $run_id)." >&2
echo "$dest/plan.json"
output "$dest/plan.json"
