#!/usr/bin/env bash
# Make DIR/ponder a view of the source tree under its import names, then print DIR.
#
#   scripts/import_view.sh [DIR]     # default build/import-view; then PYTHONPATH=DIR or mypy_path
#
# ponder.server lives in server/ (setuptools package-dir): an install maps it, but a tool that
# reads the tree by folder (mypy) or a machine without the install (scripts/gpu_check.sh) needs
# DIR/ponder/{__init__.py, server, agent, memory} as links to the real files.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build/import-view}"
rm -rf "$dir/ponder" && mkdir -p "$dir/ponder"
for f in "$root"/ponder/*; do ln -s "$f" "$dir/ponder/"; done
for d in server agent memory; do ln -s "$root/$d" "$dir/ponder/$d"; done
echo "$dir"
