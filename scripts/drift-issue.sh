#!/usr/bin/env bash
# Keep one open issue per tenant drift: open it when `steward drift` finds drift, update it while
# drift remains, close it when the tenant matches the files again.
#
# usage: drift-issue.sh DRIFT_EXIT_CODE BODY_FILE
#
#   2  drift: update the open drift issue with BODY_FILE, or open one labelled DRIFT_LABEL
#   0  no drift: comment on and close the open drift issue, if any
#   *  steward failed: change nothing and exit 1, so the job fails instead of closing an issue
#      on a run that saw nothing
#
# The issue is recognised by its label (DRIFT_LABEL, default `drift`) and by its body starting with
# the marker `<!-- steward-drift -->` (the first line of `steward drift --format markdown`), so
# issues people file with the same label are left alone. DRIFT_MARKER replaces the marker, for one
# issue per tenant of a fleet (fleet-drift-issue.sh); the body must then start with it.
# Needs: gh (authenticated through GH_TOKEN), GITHUB_REPOSITORY=owner/name.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: drift-issue.sh DRIFT_EXIT_CODE BODY_FILE" >&2
  exit 64
fi
code=$1
body=$2
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/name}
label=${DRIFT_LABEL:-drift}
marker=${DRIFT_MARKER:-<!-- steward-drift -->}
title=${DRIFT_TITLE:-Tenant drift: settings changed outside steward}

case $code in
  0 | 2) ;;
  *)
    echo "::error::steward drift failed (exit $code); the drift issue is left as it is" >&2
    exit 1
    ;;
esac

label_query=$(jq -rn --arg l "$label" '$l | @uri')
marker_json=$(jq -cn --arg m "$marker" '$m')
# Pull requests are issues too in this API; skip them.
numbers=$(gh api --paginate "repos/$repo/issues?state=open&labels=$label_query&per_page=100" \
  --jq ".[] | select(.pull_request == null) | select((.body // \"\") | startswith($marker_json)) | .number")
# Several open ones can only come from runs racing each other; the newest is listed first.
number=${numbers%%$'\n'*}

run_url=""
if [ -n "${GITHUB_RUN_ID:-}" ]; then
  run_url="${GITHUB_SERVER_URL:-https://github.com}/$repo/actions/runs/$GITHUB_RUN_ID"
fi

if [ "$code" = 2 ]; then
  if [ ! -r "$body" ]; then
    echo "drift-issue.sh: cannot read $body" >&2
    exit 66
  fi
  if [ -n "$number" ]; then
    echo "Drift remains: updating issue #$number"
    gh api --method PATCH "repos/$repo/issues/$number" -F "body=@$body" --jq .html_url
  else
    echo "Drift found: opening an issue labelled $label"
    gh api --method POST "repos/$repo/issues" -f "title=$title" -F "body=@$body" \
      -f "labels[]=$label" --jq .html_url
  fi
  exit 0
fi

if [ -z "$number" ]; then
  echo "No drift, and no open drift issue."
  exit 0
fi
echo "Drift is gone: closing issue #$number"
note="The tenant matches the policy files again; closing."
if [ -n "$run_url" ]; then
  note="The tenant matches the policy files again ($run_url); closing."
fi
gh api --method POST "repos/$repo/issues/$number/comments" -f "body=$note" --jq .html_url
gh api --method PATCH "repos/$repo/issues/$number" -f state=closed -f state_reason=completed \
  --jq .html_url
