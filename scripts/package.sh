#!/usr/bin/env bash
# Package a release build: the binary, its completions and man pages, and the docs, as
# steward-VERSION-TARGET.tar.gz with a .sha256 beside it.
#
# usage: package.sh BINARY VERSION TARGET OUT_DIR
#
# The binary must run on this machine (it writes its own completions and man pages), so each
# target is packaged on the runner that built it.
set -euo pipefail

if [ "$#" -ne 4 ]; then
  echo "usage: package.sh BINARY VERSION TARGET OUT_DIR" >&2
  exit 64
fi
binary=$1
version=$2
target=$3
out=$4
root=$(cd "$(dirname "$0")/.." && pwd)
name="steward-$version-$target"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/completions" "$stage/$name/man" "$out"

exe=steward
case $binary in *.exe) exe=steward.exe ;; esac
cp "$binary" "$stage/$name/$exe"
"$binary" completions bash >"$stage/$name/completions/steward.bash"
"$binary" completions zsh >"$stage/$name/completions/_steward"
"$binary" completions fish >"$stage/$name/completions/steward.fish"
"$binary" completions powershell >"$stage/$name/completions/_steward.ps1"
# steward.1 and one page per command (steward-plan.1, …), which steward.1 refers to.
"$binary" man --dir "$stage/$name/man"
cp "$root/README.md" "$stage/$name/"
# The reference the README links to, so its links work in the unpacked archive too.
cp -R "$root/docs" "$stage/$name/docs"

tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
# sha256sum on Linux and Git Bash, shasum on macOS; both print "HASH  FILE".
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
else
  (cd "$out" && shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256")
fi
echo "$out/$name.tar.gz"
