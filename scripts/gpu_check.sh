#!/usr/bin/env bash
# Run ponder's sampling benchmark on a machine with an NVIDIA GPU and no internet.
#
# Prepare here (a machine with nvcc, no GPU needed):
#   scripts/build_llama_wheel.sh cuda            # ~/.cache/ponder/wheels/cuda-0.3.36/*.whl
#   mkdir -p gpu && cp ~/.cache/ponder/wheels/cuda-0.3.36/*.whl gpu/
# Then on the GPU machine, in a copy of this repository that carries gpu/*.whl:
#   scripts/gpu_check.sh [MODEL_GGUF_OR_ALIAS] [K]
#
# It makes a venv with the system Python, installs the CUDA wheel (llama-cpp-python wheels are
# py3-none-linux_x86_64, so one built for sm_90 elsewhere works) and numpy from whatever the
# machine has, then runs scripts/bench_sampling.py with every layer offloaded, for k=K (default 8).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
model="${1:-smollm2-135m}"
k="${2:-8}"
wheel=$(ls gpu/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "no gpu/llama_cpp_python-*.whl: build one with scripts/build_llama_wheel.sh cuda" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -m venv --system-site-packages .venv-gpu
.venv-gpu/bin/pip install -q --no-index --no-deps "$wheel"
.venv-gpu/bin/python -c "import numpy, jinja2, diskcache" 2>/dev/null || \
  .venv-gpu/bin/pip install -q --no-index --find-links gpu numpy jinja2 diskcache MarkupSafe
.venv-gpu/bin/python -c "import llama_cpp; print('GPU offload:', llama_cpp.llama_supports_gpu_offload())"
PYTHONPATH="$(scripts/import_view.sh)" .venv-gpu/bin/python scripts/bench_sampling.py --model "$model" --k "$k" --tokens 128 --gpu-layers -1
