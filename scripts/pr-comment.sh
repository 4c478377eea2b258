#!/usr/bin/env bash
# Post a pull-request comment, or update the one posted before, so a PR carries a single plan
# comment however often it is pushed to.
#
# usage: pr-comment.sh PR_NUMBER BODY_FILE
#
# The comment is recognised by its first line, a hidden marker (STEWARD_MARKER, default
# `<!-- steward-plan -->`, the first line of `steward plan --format markdown`), and by having been
# written by a bot: a person quoting the marker is never overwritten. BODY_FILE must start with
# the marker.
# Needs: gh (authenticated through GH_TOKEN), GITHUB_REPOSITORY=owner/name.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: pr-comment.sh PR_NUMBER BODY_FILE" >&2
  exit 64
fi
pr=$1
body=$2
marker=${STEWARD_MARKER:-<!-- steward-plan -->}
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/name}

case $pr in
  '' | *[!0-9]*)
    echo "pr-comment.sh: PR number must be a number, got '$pr'" >&2
    exit 64
    ;;
esac
if [ ! -r "$body" ]; then
  echo "pr-comment.sh: cannot read $body" >&2
  exit 66
fi
first_line=$(head -n 1 "$body")
if [ "$first_line" != "$marker" ]; then
  echo "pr-comment.sh: $body does not start with the marker $marker" >&2
  exit 65
fi

# The marker goes into the jq program as a JSON string literal, so quotes in it stay data.
marker_json=$(jq -cn --arg m "$marker" '$m')
ids=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.user.type == \"Bot\") | select((.body // \"\") | startswith($marker_json)) | .id")
# The oldest such comment is the one reviewers have seen; keep updating it.
id=${ids%%$'\n'*}

if [ -n "$id" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" --jq .html_url
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --jq .html_url
fi
