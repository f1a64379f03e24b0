"""A copy of a GGUF with every matrix in one quantization type, through llama.cpp's own quantizer:
does a file whose matrices are all repacked for llama.cpp's batched CPU kernels make an extra
batch row cheap?

    python scripts/requantize.py ~/.local/share/ponder/models/qwen2.5-coder-1.5b.gguf /tmp/q4k.gguf
    python scripts/bench_batch_cost.py --model /tmp/q4k.gguf --max-rows 6 --tokens 32 --reps 2

The bundled Q4_K_M file leaves 28% of its matrix weights in Q6_K (the output matrix, half the
layers' ffn_down and attn_v), which llama.cpp does not repack; `--type q4_K` (the default) makes
them Q4_K too, `--type q4_0` makes everything Q4_0 (repacked as q4_0_8x8, the simplest batched
kernel). Both lose precision against the bundled file (4-bit where it had 6): a speed experiment,
not a file to answer with. Requantizing the 1.5B takes about 40 s on 2 cores.
"""

from __future__ import annotations

import argparse
import ctypes
import sys

TYPES = {"q4_K": ("LLAMA_FTYPE_MOSTLY_Q4_K_S", "GGML_TYPE_Q4_K"),
         "q4_0": ("LLAMA_FTYPE_MOSTLY_Q4_0", "GGML_TYPE_Q4_0")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--type", choices=sorted(TYPES), default="q4_K")
    args = parser.parse_args()
    import llama_cpp

    ftype, tensor_type = (getattr(llama_cpp, name) for name in TYPES[args.type])
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.pure = True  # every matrix in that type, none kept at a higher one
    params.allow_requantize = True
    params.output_tensor_type = tensor_type
    params.token_embedding_type = tensor_type
    status = llama_cpp.llama_model_quantize(
        args.source.encode(), args.target.encode(), ctypes.byref(params)
    )
    if status != 0:
        sys.exit(f"llama.cpp could not quantize {args.source} (status {status})")


if __name__ == "__main__":
    main()
