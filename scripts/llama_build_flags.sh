# Sourced by build_llama_wheel.sh and build_llama_server.sh: the cmake flags for one build flavour
# ($flavour: cpu or cuda) in the array `flags`. Why the CPU build names its instruction sets: see
# build_llama_wheel.sh (ggml's AMX kernels crash on these machines).
cpuinfo="${CPUINFO:-/proc/cpuinfo}"  # the CPU's flags; CPUINFO lets a test name another CPU
case "$flavour" in
  cpu)
    flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
    if grep -q avx512f "$cpuinfo" && grep -q avx512_vnni "$cpuinfo"; then
      flags+=(-DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON)
      if grep -q avx512vbmi "$cpuinfo"; then flags+=(-DGGML_AVX512_VBMI=ON); fi
      if grep -q avx512_bf16 "$cpuinfo"; then flags+=(-DGGML_AVX512_BF16=ON); fi
    fi
    # `if`, not `&&`: a failed test as the file's last command would fail the `source` under set -e
    # (seen on a CPU without AVX-VNNI: the wheel was never built).
    if grep -q avx_vnni "$cpuinfo"; then flags+=(-DGGML_AVX_VNNI=ON); fi
    ;;
  cuda)
    # Portable CPU part (AVX2), GPU kernels for sm_90 only to keep the wheel small.
    flags=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
    ;;
  *) echo "unknown flavour '$flavour' (use cpu or cuda)" >&2; exit 2 ;;
esac

# A cached build keeps the flags it was made with (a file `flags` beside it). One made with other
# flags (a home directory carried to a CPU without AVX-512, say) is removed, to be rebuilt, rather
# than run on instructions this CPU may lack; so is an older cache that never wrote the file.
drop_cache_of_other_flags() {
  if [ -d "$1" ] && [ "$(cat "$1/flags" 2>/dev/null || true)" != "${flags[*]}" ]; then
    echo "the cached build in $1 was made with other flags: rebuilding" >&2
    rm -rf "$1"
  fi
}
