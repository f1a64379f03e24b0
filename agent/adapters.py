"""A LoRA adapter (llama.cpp GGUF, as `ponder learn` writes it) on the model the engine runs.

llama.cpp reads the file and refuses one whose tensors do not fit the model (another size or
architecture, a truncated or corrupt file). An adapter trained for another model file of the same
shape would fit, so ponder also compares the base model's sha256 that `ponder learn` writes in the
file (`ponder.base.sha256`) with the model's. An adapter without that key (llama.cpp's own
convert_lora_to_gguf.py) is taken on llama.cpp's check alone.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponder.agent.errors import PonderError

BASE_SHA256 = "ponder.base.sha256"
BASE_NAME = "ponder.base.name"


@dataclass(frozen=True)
class Adapter:
    name: str  # what results and status show: the file's name without .gguf
    path: Path
    sha256: str  # the adapter file's own: calibration tables are fitted per adapter
    base: str  # the model it names as its base ("" when it names none)


def located(setting: str) -> Path:
    """The adapter setting as a readable GGUF file, or a PonderError saying what is wrong."""
    path = Path(setting).expanduser()
    if not path.is_file():
        raise PonderError(f"adapter {path} does not exist")
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise PonderError(f"adapter {path} is not a GGUF file")
    return path


def attach(
    model: Any, setting: str, model_name: str, model_sha256: Callable[[], str]
) -> tuple[Any, Adapter]:
    """Load the adapter for llama.cpp `model` (an `_internals.LlamaModel`): (its handle, what it
    is). PonderError, with the adapter freed, when it does not belong to this model."""
    import llama_cpp

    path = located(setting)
    handle = llama_cpp.llama_adapter_lora_init(model.model, str(path).encode())
    if not handle:
        raise PonderError(
            f"adapter {path} does not fit the model {model_name}: llama.cpp could not load it "
            "(a corrupt file, or an adapter for a model of another size or architecture)"
        )
    base_sha256, base_name = _meta(handle, BASE_SHA256), _meta(handle, BASE_NAME)
    if base_sha256 and base_sha256 != model_sha256():
        llama_cpp.llama_adapter_lora_free(handle)
        raise PonderError(
            f"adapter {path} was trained for another model file ({base_name or 'unnamed'}, "
            f"sha256 {base_sha256[:12]}…), not {model_name}"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return handle, Adapter(path.name.removesuffix(".gguf"), path, digest, base_name)


def _meta(handle: Any, key: str) -> str:
    import llama_cpp

    buf = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_adapter_meta_val_str(handle, key.encode(), buf, len(buf))
    return buf.value.decode(errors="replace") if n >= 0 else ""


def use(ctx: Any, handle: Any | None, scale: float = 1.0) -> None:
    """Apply the adapter to llama.cpp context `ctx` at `scale` (none: the base model alone)."""
    import llama_cpp

    if handle is None:
        llama_cpp.llama_set_adapters_lora(ctx.ctx, None, 0, None)
        return
    handles = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
    scales = (ctypes.c_float * 1)(scale)
    if llama_cpp.llama_set_adapters_lora(ctx.ctx, handles, 1, scales):
        raise PonderError("llama.cpp could not apply the adapter to the context")


def free(handle: Any) -> None:
    import llama_cpp

    llama_cpp.llama_adapter_lora_free(handle)
