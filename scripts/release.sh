#!/usr/bin/env bash
# Publish the packaged builds as the GitHub release of a tag; re-running replaces the files.
#
# usage: release.sh TAG DIST_DIR
# Needs: gh (GH_TOKEN with contents: write), GITHUB_REPOSITORY.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: release.sh TAG DIST_DIR" >&2
  exit 64
fi
tag=$1
dist=$2
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be owner/name}

shopt -s nullglob
files=("$dist"/*.tar.gz "$dist"/*.sha256)
if [ "${#files[@]}" -eq 0 ]; then
  echo "release.sh: nothing to publish in $dist" >&2
  exit 1
fi

if gh release view "$tag" --repo "$repo" >/dev/null 2>&1; then
  gh release upload "$tag" --repo "$repo" --clobber "${files[@]}"
else
  # --verify-tag: never let gh create a tag the push did not.
  gh release create "$tag" --repo "$repo" --verify-tag --title "steward $tag" --generate-notes \
    "${files[@]}"
fi
