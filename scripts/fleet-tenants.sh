#!/usr/bin/env bash
# The first job of the fleet workflows: which tenants to run, as a GitHub Actions matrix.
#
# usage: fleet-tenants.sh [FLEET_PATH]
#
#   TENANTS        tenant selector (all, group:NAME, a,b,c); default all
#   CHANGED_SINCE  a git ref: only the tenants a change since it touches (a plan's PR base, the
#                  commit before a push). Empty, or the all-zero id of a push that created its
#                  branch: every selected tenant
#   BATCH          empty: one matrix, and more than 256 tenants (GitHub's matrix limit) is an
#                  error; N: the N-th batch of BATCH_SIZE (default 256) tenants, for callers that
#                  fan out with one call per batch
#
# Writes to GITHUB_OUTPUT `matrix` (steward's `{"include":[…]}`, compact), `count` (its tenants)
# and `tenants` (their names, a JSON array), and lists the tenants in the step summary. Exits 1
# when steward fails or prints something that is not such a matrix, so no job fans out over a
# wrong list.
# Needs: steward (or STEWARD=path), jq.
set -euo pipefail

fleet=${1:-.}
steward=${STEWARD:-steward}
export NO_COLOR=1

args=(tenants "$fleet" --tenants "${TENANTS:-all}" --format github-matrix)
since=${CHANGED_SINCE:-}
# A push that created its branch has no commit before it: nothing to compare with.
if [ -n "$since" ] && [ -n "${since//0/}" ]; then
  args+=(--changed-since "$since")
fi
if [ -n "${BATCH:-}" ]; then
  batch_size=${BATCH_SIZE:-256}
  for n in "$BATCH" "$batch_size"; do
    case $n in
      '' | *[!0-9]*)
        echo "::error title=steward tenants::batch and batch-size must be whole numbers, got '$n'"
        exit 64
        ;;
    esac
  done
  args+=(--batch "$BATCH" --batch-size "$batch_size")
fi

echo "== steward ${args[*]}"
if ! matrix=$("$steward" "${args[@]}"); then
  echo "::error title=steward tenants::steward tenants failed; see the log above"
  exit 1
fi
# Exactly the keys the matrix jobs read: include[].tenant, a non-empty name.
if ! count=$(jq -e '
    if (.include | type) == "array"
      and all(.include[]; (.tenant | type) == "string" and .tenant != "")
    then .include | length
    else error("not a GitHub matrix")
    end' <<<"$matrix" 2>/dev/null); then
  echo "::error title=steward tenants::steward tenants did not print a GitHub matrix: $(head -c 300 <<<"$matrix")"
  exit 1
fi
compact=$(jq -c . <<<"$matrix")
names=$(jq -c '[.include[].tenant]' <<<"$matrix")

echo "$count tenant(s): $(jq -r 'join(", ")' <<<"$names")"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "matrix=$compact"
    echo "count=$count"
    echo "tenants=$names"
  } >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### steward: $count tenant(s) to run"
    echo
    jq -r '.[] | "- `\(.)`"' <<<"$names"
  } >>"$GITHUB_STEP_SUMMARY"
fi
