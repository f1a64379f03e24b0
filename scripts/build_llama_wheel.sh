#!/usr/bin/env bash
# Build (once) and cache a llama-cpp-python wheel for this machine, then print its path.
#
#   scripts/build_llama_wheel.sh cpu    # default: CPU build
#   scripts/build_llama_wheel.sh cuda   # CUDA build for sm_90 (H100/H200); needs nvcc, no GPU
#
# Why not a plain `pip install llama-cpp-python`: its default -march=native build enables ggml's
# AMX kernels on CPUs that advertise AMX, and on these machines they crash (SIGSEGV in
# ggml_backend_amx_mul_mat on the first decode). So the CPU build names its instruction sets itself,
# AMX left out. pip's own wheel cache ignores CMAKE_ARGS, so each flavour gets its own cache folder.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
flavour="${1:-cpu}"
version="${LLAMA_CPP_VERSION:-0.3.36}"
cache="${PONDER_WHEEL_CACHE:-$HOME/.cache/ponder/wheels}/$flavour-$version"
pip="${PIP:-.venv/bin/pip}"

source "$(dirname "$0")/llama_build_flags.sh"
drop_cache_of_other_flags "$cache"

wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "building llama-cpp-python $version ($flavour), about 6 minutes on 2 cores..." >&2
  mkdir -p "$cache"
  CMAKE_ARGS="${flags[*]}" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$pip" wheel --no-deps --no-cache-dir -w "$cache" "llama-cpp-python==$version" >&2
  wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl | head -n 1)
  echo "${flags[*]}" > "$cache/flags"
fi
echo "$wheel"
