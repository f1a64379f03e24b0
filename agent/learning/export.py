"""A trained peft adapter as a llama.cpp LoRA adapter (GGUF), written with the `gguf` package.

The same form llama.cpp's convert_lora_to_gguf.py writes (general.type "adapter", adapter.type
"lora", adapter.lora.alpha, tensors `blk.N.<name>.weight.lora_a` / `.lora_b`), without needing
the base model in Hugging Face's form: that script reads its config from a folder or the hub,
and ponder has only the GGUF file. Two things it does are done here too: tensor names through
gguf's own name map, and llama's q/k rows permuted as llama.cpp's converter permutes the base
weights (transformers un-permuted them when it loaded the GGUF: the adapter was trained in
that order). The file also names the base model file's sha256 (`ponder.base.sha256`): an
adapter trained for another model is refused before llama.cpp sees it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ponder.agent.errors import PonderError

BASE_SHA256 = "ponder.base.sha256"
BASE_NAME = "ponder.base.name"


def _permute(rows: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute, on the rows (output features) of lora_b."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    shape = rows.shape
    return (
        rows.reshape(n_head, 2, shape[0] // n_head // 2, *shape[1:]).swapaxes(1, 2).reshape(shape)
    )


def lower_rank(state: dict, alpha: float, rank: int) -> tuple[dict, float, float]:
    """The adapter at a lower rank: each module's update (alpha/r)·B·A cut to its `rank`
    largest singular directions (the best approximation of that rank), found from the small
    r×r core of the two factors' QR decompositions. Returns (state, alpha, the share of the
    updates' squared norm kept). A smaller file: Q8_0 leaves lora_b f16, so size goes with rank."""
    import torch

    out, kept, total = {}, 0.0, 0.0
    for key_a in [k for k in state if ".lora_A." in k]:
        key_b = key_a.replace(".lora_A.", ".lora_B.")
        a, b = state[key_a].double(), state[key_b].double()  # r×in, out×r
        r = a.shape[0]
        if rank >= r:
            raise PonderError(f"--export-rank {rank} is not below the adapter's rank {r}")
        q_b, r_b = torch.linalg.qr(b)
        q_a, r_a = torch.linalg.qr(a.T)
        u, sv, vh = torch.linalg.svd(r_b @ r_a.T)
        scale = (alpha / r) ** 0.5  # folded into both factors: the new alpha is the new rank
        root = sv[:rank].sqrt()
        out[key_b] = (scale * q_b @ u[:, :rank] * root).float()
        out[key_a] = (scale * (root[:, None] * vh[:rank]) @ q_a.T).float()
        kept += float((sv[:rank] ** 2).sum())
        total += float((sv**2).sum())
    return out, float(rank), kept / total if total else 1.0


def write_adapter(
    state: dict,
    config: dict,
    alpha: float,
    out: Path,
    base_sha256: str,
    base_name: str,
    outtype: str = "f16",
) -> int:
    """Write `state` (peft's adapter state dict: name → torch tensor) as a GGUF adapter for a
    model with `config` (model_type, num_attention_heads, num_key_value_heads,
    num_hidden_layers). `outtype` "f16", or "q8_0" for the lora_a tensors (rows of the input
    width; lora_b's rows are the rank wide, too short for Q8_0's blocks of 32, and stay f16).
    Returns the file's size in bytes."""
    import gguf

    arch_name = config["model_type"]  # transformers' and llama.cpp's names agree for these
    if arch_name not in ("llama", "qwen2"):
        raise PonderError(
            f"exporting an adapter for a {arch_name} model is not supported (llama, qwen2)"
        )
    arch = next(a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == arch_name)
    name_map = gguf.get_tensor_name_map(arch, config["num_hidden_layers"])
    partial = out.with_name(out.name + ".partial")
    writer = gguf.GGUFWriter(str(partial), arch_name)
    writer.add_string(gguf.Keys.General.TYPE, gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_string(BASE_SHA256, base_sha256)
    writer.add_string(BASE_NAME, base_name)
    for key in sorted(state):
        module, _, which = key.removeprefix("base_model.model.").rpartition(".lora_")
        part = which.split(".")[0]  # "A" or "B"
        mapped = name_map.get_name(module)
        if mapped is None:
            raise PonderError(f"no llama.cpp tensor for {module}")
        data = state[key].float().numpy()
        if arch_name == "llama" and part == "B" and mapped.endswith(("attn_q", "attn_k")):
            heads = config["num_attention_heads"]
            kv = heads if mapped.endswith("attn_q") else config["num_key_value_heads"]
            data = _permute(data, heads, kv)
        name = f"{mapped}.weight.lora_{part.lower()}"
        if outtype == "q8_0" and part == "A" and data.shape[-1] % 32 == 0:
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(data, q8), raw_dtype=q8)
        else:
            writer.add_tensor(name, data.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(out)
    return out.stat().st_size


def read_base(path: Path) -> dict[str, str]:
    """The adapter file's own metadata: general.type, and the base model it was trained for.
    A file that is not a GGUF adapter is refused with a message."""
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError, IndexError) as e:
        raise PonderError(f"{path} is not a GGUF file ({e})") from e
    found = {}
    for key in (gguf.Keys.General.TYPE, BASE_SHA256, BASE_NAME, gguf.Keys.General.ARCHITECTURE):
        field = reader.get_field(key)
        if field is not None:
            found[key] = field.contents()
    if found.get(gguf.Keys.General.TYPE) != gguf.GGUFType.ADAPTER:
        raise PonderError(
            f"{path} is a GGUF file but not an adapter (general.type {found.get(gguf.Keys.General.TYPE)!r})"
        )
    return found
