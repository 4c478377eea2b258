#!/usr/bin/env bash
# The README's quick start and GitOps steps, run as a new user would, against the sandbox tenant.
#
# usage: smoke.sh [STEWARD]   (default: cargo run --release --locked --)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
  steward=("$@")
else
  steward=(cargo run --release --locked --quiet --)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== validate policies/"
"${steward[@]}" validate policies/

echo "== permissions policies/"
"${steward[@]}" permissions policies/

echo "== plan --sandbox"
"${steward[@]}" plan --sandbox

echo "== plan --sandbox --format markdown --out plan.json"
"${steward[@]}" plan --sandbox --format markdown --out "$work/plan.json" >"$work/plan.md"
cat "$work/plan.md"
# The PR workflow finds its comment by this first line.
if [ "$(head -n 1 "$work/plan.md")" != '<!-- steward-plan -->' ]; then
  echo "smoke: the Markdown plan does not start with <!-- steward-plan -->" >&2
  exit 1
fi
test -s "$work/plan.json"

echo "== drift --sandbox --format markdown"
code=0
"${steward[@]}" drift --sandbox --format markdown >"$work/drift.md" || code=$?
if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then
  echo "smoke: steward drift failed (exit $code)" >&2
  exit 1
fi
if [ "$(head -n 1 "$work/drift.md")" != '<!-- steward-drift -->' ]; then
  echo "smoke: the Markdown drift report does not start with <!-- steward-drift -->" >&2
  exit 1
fi

echo "== completions and man page"
"${steward[@]}" completions bash >/dev/null
"${steward[@]}" man >/dev/null
echo "smoke: ok"
