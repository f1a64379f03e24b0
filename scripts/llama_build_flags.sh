# Sourced by build_llama_wheel.sh and build_llama_server.sh: the cmake flags for one build flavour
# ($flavour: cpu or cuda) in the array `flags`. Why the CPU build names its instruction sets: see
# build_llama_wheel.sh (ggml's AMX kernels crash on these machines).
case "$flavour" in
  cpu)
    flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
    if grep -q avx512f /proc/cpuinfo && grep -q avx512_vnni /proc/cpuinfo; then
      flags+=(-DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON)
      grep -q avx512vbmi /proc/cpuinfo && flags+=(-DGGML_AVX512_VBMI=ON)
      grep -q avx512_bf16 /proc/cpuinfo && flags+=(-DGGML_AVX512_BF16=ON)
    fi
    grep -q avx_vnni /proc/cpuinfo && flags+=(-DGGML_AVX_VNNI=ON)
    ;;
  cuda)
    # Portable CPU part (AVX2), GPU kernels for sm_90 only to keep the wheel small.
    flags=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
    ;;
  *) echo "unknown flavour '$flavour' (use cpu or cuda)" >&2; exit 2 ;;
esac
