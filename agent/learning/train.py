"""LoRA training over the model's own weights: the GGUF file dequantized by transformers (its
GGUF loading; nothing is downloaded), a peft adapter on every linear layer of every block, plain
AdamW, one example per step, only the answer's tokens in the loss. CPU by default, CUDA when
torch sees one.

Why transformers + peft and not llama.cpp's own fine-tuning: llama.cpp's `llama-finetune`
trains the full model (no LoRA output) in the version this project builds, and its Python
binding has no training API; peft's LoRA is the reference one, and export.py writes it in the
GGUF adapter form llama.cpp loads.

A run lives in one folder: `run.json` (what was asked), `examples.jsonl`, `log.jsonl` (the loss
per step), `checkpoint/` (adapter, optimizer, step: written every `checkpoint_every` steps,
atomically), `loss.png`. `--resume` goes on from the last checkpoint: a stopped run loses at
most one checkpoint interval. The base model file is only read.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ponder.agent.errors import PonderError

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
IGNORED = -100  # a label the loss skips: the prompt's tokens


@dataclass(frozen=True)
class Budget:
    epochs: int = 1
    max_tokens: int = 512  # an example longer than this (prompt + answer) is left out, counted
    learning_rate: float = 1e-4
    rank: int = 16
    alpha: int = 32
    checkpoint_every: int = 10  # steps
    seed: int = 0


@dataclass(frozen=True)
class Trained:
    examples: int  # used
    too_long: int  # left out by max_tokens
    steps: int
    seconds: float  # this run's, not a resumed run's earlier part
    loss_first: float
    loss_last: float  # mean of the last few steps
    folder: Path
    shape: dict  # the model's: model_type, heads, key-value heads, layers (export.py needs them)


def load_model(model_path: Path):
    """(tokenizer, model) from the GGUF file, dequantized to float32. transformers reads the
    file by folder and name; HF_HUB_OFFLINE keeps it from ever asking the hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    folder, name = str(model_path.resolve().parent), model_path.resolve().name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except (OSError, ValueError, KeyError) as e:
        raise PonderError(f"cannot load {model_path} for training: {e}") from e
    return tokenizer, model


def tokenized(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one chat example: the prompt's labels are IGNORED, so only the
    assistant's answer (and the turn's end) is learned."""
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=False, add_generation_prompt=True
    )
    whole = tokenizer.apply_chat_template(messages, tokenize=False)
    if not whole.startswith(prompt):
        raise PonderError("the model's chat template does not extend the prompt with the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(whole, add_special_tokens=False)["input_ids"]
    return ids, [IGNORED] * len(prompt_ids) + ids[len(prompt_ids) :]


def train(
    model_path: Path,
    records: list[dict],
    folder: Path,
    budget: Budget,
    resume: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    model_name: str = "",
) -> Trained:
    """Train an adapter on `records` ({"messages": [...]}) into `folder`; see the module's doc."""
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    checkpoint = folder / "checkpoint"
    old = checkpoint.with_name("checkpoint.old")
    if old.exists() and not checkpoint.exists():  # stopped between the two renames of _save
        old.rename(checkpoint)
    if checkpoint.exists() and not resume:
        raise PonderError(
            f"{folder} holds a run already: --resume goes on with it, or choose another --out"
        )
    if resume and not checkpoint.exists():
        raise PonderError(f"nothing to resume in {folder} (no checkpoint/)")
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(budget.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    progress(f"loading {model_path.name} for training ({device})")
    tokenizer, base = load_model(model_path)
    config = LoraConfig(
        r=budget.rank,
        lora_alpha=budget.alpha,
        lora_dropout=0.0,
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, config).to(device)
    data = [tokenized(tokenizer, r["messages"]) for r in records]
    usable = [d for d in data if len(d[0]) <= budget.max_tokens]
    if not usable:
        raise PonderError(f"no example fits in {budget.max_tokens} tokens ({len(data)} given)")
    order = _order(len(usable), budget)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=budget.learning_rate
    )
    step = 0
    if resume:
        set_peft_model_state_dict(model, load_file(checkpoint / "adapter.safetensors"))
        optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
        step = json.loads((checkpoint / "state.json").read_text())["step"]
        progress(f"resuming at step {step} of {len(order)}")
    losses = _log_until(folder / "log.jsonl", step)
    about = {"model": str(model_path), "model_name": model_name, **asdict(budget)}
    (folder / "run.json").write_text(json.dumps(about))
    model.train()
    started, first_step = time.perf_counter(), step
    with open(folder / "log.jsonl", "a", encoding="utf-8") as log:
        while step < len(order):
            ids, labels = usable[order[step]]
            batch = torch.tensor([ids], device=device)
            loss = model(input_ids=batch, labels=torch.tensor([labels], device=device)).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            step += 1
            losses.append(loss.item())
            log.write(
                json.dumps({"step": step, "loss": round(losses[-1], 5), "tokens": len(ids)}) + "\n"
            )
            log.flush()
            elapsed = time.perf_counter() - started
            left = elapsed / (step - first_step) * (len(order) - step)
            progress(f"step {step}/{len(order)} · loss {losses[-1]:.3f} · {_duration(left)} left")
            if step % budget.checkpoint_every == 0 or step == len(order):
                _save(model, optimizer, step, checkpoint)
    plot_losses(losses, folder / "loss.png")
    tail = losses[-min(5, len(losses)) :]
    return Trained(
        len(usable),
        len(data) - len(usable),
        step,
        time.perf_counter() - started,
        losses[0],
        sum(tail) / len(tail),
        folder,
        _shape(base.config),
    )


def _shape(config) -> dict:
    keys = ("model_type", "num_attention_heads", "num_key_value_heads", "num_hidden_layers")
    return {key: getattr(config, key) for key in keys}


def _order(n: int, budget: Budget) -> list[int]:
    """Which example each step trains on: every example once per epoch, shuffled by the seed
    (the same order on a resumed run)."""
    order: list[int] = []
    for epoch in range(budget.epochs):
        indices = list(range(n))
        random.Random(budget.seed * 1000 + epoch).shuffle(indices)
        order += indices
    return order


def _log_until(path: Path, step: int) -> list[float]:
    """The losses logged up to `step` (the checkpoint); later lines, from steps a stopped run
    will redo, are dropped."""
    if not path.exists():
        return []
    kept = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    kept = [r for r in kept if r["step"] <= step]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return [r["loss"] for r in kept]


def _save(model, optimizer, step: int, checkpoint: Path) -> None:
    """The adapter, the optimizer and the step, replaced at once: a crash mid-write leaves the
    previous checkpoint whole."""
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    partial = checkpoint.with_name("checkpoint.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    state = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, partial / "adapter.safetensors")
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    (partial / "state.json").write_text(json.dumps({"step": step}))
    old = checkpoint.with_name("checkpoint.old")
    if checkpoint.exists():
        checkpoint.rename(old)
    partial.rename(checkpoint)
    shutil.rmtree(old, ignore_errors=True)


def plot_losses(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(range(1, len(losses) + 1), losses, linewidth=1)
    axes.set_xlabel("step")
    axes.set_ylabel("loss (answer tokens)")
    axes.set_title("ponder learn")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def read_run(folder: Path) -> tuple[str, str, Budget]:
    """What a run in `folder` was asked (run.json): (model file, model name, budget), so that a
    resumed run goes on with the same model and budget whatever the command line says now."""
    try:
        about = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        model, name = about.pop("model"), about.pop("model_name", "")
        return model, name, Budget(**about)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise PonderError(
            f"cannot resume {folder}: its run.json is missing or unreadable ({e})"
        ) from e
