#!/usr/bin/env bash
# Build (once) and cache llama.cpp's own `llama-server`, then print its path.
#
#   scripts/build_llama_server.sh [cpu|cuda]
#
# What a team runs on a CPU box to serve one model to every editor (parallel slots, continuous
# batching); the backend tests start it. It is built from the llama.cpp sources inside the
# llama-cpp-python sdist of the version ponder installs, so the server and the in-process engine
# run the same llama.cpp. Static, no web UI (the prebuilt one would be fetched from a hub), no
# OpenSSL; the sdist comes from PyPI and is cached with the binary.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
flavour="${1:-cpu}"
version="${LLAMA_CPP_VERSION:-0.3.36}"
cache="${PONDER_SERVER_CACHE:-$HOME/.cache/ponder/llama-server}/$flavour-$version"
pip="${PIP:-.venv/bin/pip}"
binary="$cache/llama-server"

source "$(dirname "$0")/llama_build_flags.sh"
drop_cache_of_other_flags "$cache"
if [ ! -x "$binary" ]; then
  echo "building llama-server ($flavour, llama.cpp of llama-cpp-python $version), about 5 minutes on 2 cores..." >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$pip" download -q --no-deps --no-binary :all: -d "$work" "llama-cpp-python==$version" >&2
  tar xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
  src="$work/llama_cpp_python-$version/vendor/llama.cpp"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${flags[@]}" \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF >&2
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >&2
  mkdir -p "$cache"
  cp "$work/build/bin/llama-server" "$binary.partial" && mv "$binary.partial" "$binary"
  echo "${flags[*]}" > "$cache/flags"
fi
echo "$binary"
