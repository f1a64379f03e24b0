"""A copy of a GGUF with its Q6_K tensors as Q8_0, the rest byte for byte: is the batched step
cheaper when no matrix is left to llama.cpp's one-row Q6_K kernel?

    pip install gguf   # gguf-py (not one of ponder's dependencies)
    python scripts/q6k_to_q8.py ~/.local/share/ponder/models/qwen2.5-coder-1.5b.gguf /tmp/q8.gguf
    python scripts/bench_batch_cost.py --model /tmp/q8.gguf --max-rows 6 --tokens 32 --reps 2

In the 1.5B's Q4_K_M file the Q6_K tensors (the output matrix, half the layers' ffn_down and
attn_v: 28% of the matrix weights) are the ones llama.cpp does not repack for its batched Q4_K
kernels. Q8_0 keeps more precision than Q6_K, so the answers barely move; the file grows by 9%.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    import gguf

    reader = gguf.GGUFReader(args.source)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(args.target, arch=arch, endianess=reader.endianess)
    for field in reader.fields.values():  # as gguf-py's gguf_new_metadata.py copies them
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    tensors = []
    for tensor in reader.tensors:
        data, kind = np.asarray(tensor.data), tensor.tensor_type
        if kind == gguf.GGMLQuantizationType.Q6_K:
            values = gguf.quants.dequantize(data, kind)
            kind = gguf.GGMLQuantizationType.Q8_0
            data = gguf.quants.quantize(values, kind)
        tensors.append(data)
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for data in tensors:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()


if __name__ == "__main__":
    main()
