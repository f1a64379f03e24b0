"""ponder's settings: one tree of dataclasses with defaults, camelCase on the wire, parsed here only.

Editor settings (initializationOptions, didChangeConfiguration) are parsed leniently: a bad value
keeps its default and yields a message the server shows. Per-request `options` are parsed strictly:
a bad option is an error for that request, since the user asked for it just now.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from cattrs.errors import ClassValidationError

from ponder.agent import structure
from ponder.agent.errors import PonderError
from ponder.agent.models import DEFAULT_MODEL
from ponder.agent.quoting import clipped, quoted

# "auto": self_consistency, except for a question answered in free text (greedy).
Strategy = Literal["auto", "greedy", "self_consistency", "cot_decoding"]
Embedder = Literal["minilm", "hashing"]
STRATEGIES, EMBEDDERS = get_args(Strategy), get_args(Embedder)


def _limits(lo: float, hi: float) -> dict:
    return {"lo": lo, "hi": hi}


@dataclass
class ReasonSettings:
    # "auto": self-consistency (more accurate than greedy, and a calibrated confidence:
    # docs/evaluation.md), except free text, answered by one path (`pipeline.resolved`).
    strategy: Strategy = "auto"
    samples: int = field(default=6, metadata=_limits(1, 32))
    temperature: float = field(default=0.5, metadata=_limits(0.0, 2.0))
    top_p: float = field(default=0.95, metadata=_limits(0.0, 1.0))
    max_tokens: int = field(default=512, metadata=_limits(1, 8192))
    step_back: bool = False
    seed: int = field(default=0, metadata=_limits(0, 2**31 - 1))
    include_greedy: bool = True  # self-consistency: path 1 is the greedy path, one vote among k
    # Self-consistency: each path votes with its answer tokens' margin (CoT-decoding's aggregation).
    weighted_vote: bool = True
    # Stop the batch once the majority is decided: off, since unanimity (the confidence's best
    # signal) is then never seen.
    early_stop: bool = False
    # Self-consistency's paths: "batch" decodes them together; "greedy_first" decodes the greedy
    # path alone (its reasoning streams at one path's pace, its answer shows as the first answer),
    # then the samples; "auto": greedy_first on a CPU, batch on a GPU or a model server.
    schedule: Literal["auto", "batch", "greedy_first"] = "auto"


@dataclass
class MemorySettings:
    enabled: bool = True
    path: str = ""  # empty: $PONDER_HOME/memory; a LanceDB URI (s3://…) also works
    embedder: Embedder = "minilm"
    top_k: int = field(default=3, metadata=_limits(0, 20))


@dataclass
class InlineSettings:
    hints: bool = True  # show answers as inlay hints after their code
    answers_per_document: int = field(default=20, metadata=_limits(1, 500))


@dataclass
class BackendSettings:
    """Where the model runs: "local" (in this process) or "openai" (a team's model server, any
    OpenAI-compatible /v1/chat/completions: llama.cpp's llama-server, vLLM)."""

    kind: Literal["local", "openai"] = "local"
    url: str = ""  # e.g. http://gpu-box:8080/v1
    model: str = ""  # empty: the first model the server lists
    api_key_env: str = ""  # the name of the environment variable holding the key (never the key)
    timeout_s: float = field(default=120.0, metadata=_limits(1.0, 3600.0))
    max_concurrent: int = field(default=8, metadata=_limits(1, 64))


@dataclass
class Settings:
    model: str = DEFAULT_MODEL
    adapter: str = ""  # a LoRA adapter (.gguf, from `ponder learn`) for the model; empty: none
    gpu_layers: int = field(default=-1, metadata=_limits(-1, 10_000))  # -1: all, when supported
    context_size: int = field(default=8192, metadata=_limits(256, 131_072))
    threads: int = field(default=0, metadata=_limits(0, 1024))  # 0: one per core
    preload: bool = True  # load the model in the background right after `initialized`
    # "Ponder: check by running" runs the document's code (confined) on the user's request; the
    # editor turns it on only in a workspace the user trusts. Off: the command says how.
    check_by_running: bool = False
    # Prompt-lookup speculation on greedy paths: "auto" (on with GPU offload, off on a CPU:
    # services.resolve_speculation), "ngram", or "off".
    speculation: Literal["auto", "ngram", "off"] = "auto"
    backend: BackendSettings = field(default_factory=BackendSettings)
    reason: ReasonSettings = field(default_factory=ReasonSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    inline: InlineSettings = field(default_factory=InlineSettings)


CONVERTER = structure.converter(
    (ReasonSettings, MemorySettings, InlineSettings, BackendSettings, Settings),
    forbid_extra_keys=True,
)


def _refusal(f: dataclasses.Field, value: Any) -> str | None:
    """Why `value` is outside field `f`'s range (its metadata), or None; choices are `Literal`
    types, refused by the converter."""
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"must be between {lo} and {hi}, got {quoted(value)}"
    return None


def refusal(cls: type, name: str, value: Any) -> str | None:
    """Why `value` is refused for field `name` of settings dataclass `cls` (None: accepted);
    for values set outside `merge`, e.g. command-line flags already typed by argparse."""
    return _refusal(next(f for f in dataclasses.fields(cls) if f.name == name), value)


def _out_of_limits(value: Any, path: tuple[str, ...] = ()):
    """(path, why) for each field outside its range (field metadata)."""
    for f in dataclasses.fields(value):
        current, where = getattr(value, f.name), (*path, structure.camel(f.name))
        if dataclasses.is_dataclass(current):
            yield from _out_of_limits(current, where)
        elif why := _refusal(f, current):
            yield where, why


def merge(base: Any, wire: Any, problems: list[str], prefix: str = "") -> Any:
    """A copy of dataclass `base` with the camelCase dict `wire` applied. Each refused value
    keeps its value in `base` and appends a message to `problems`."""
    if wire is None or wire == []:  # Lua's empty table arrives as []
        return dataclasses.replace(base)
    if not isinstance(wire, dict):
        problems.append(f"{prefix.rstrip('.') or 'settings'} must be an object, got {quoted(wire)}")
        return dataclasses.replace(base)
    before = CONVERTER.unstructure(base)
    data = _overlay(before, wire)
    for _attempt in range(3):  # type errors, then out-of-limits values, then structure
        try:
            value = CONVERTER.structure(data, type(base))
        except ClassValidationError as e:
            refused = list(structure.refusals(e, type(base)))
        else:
            refused = [(path, "value", why) for path, why in _out_of_limits(value)]
            if not refused:
                return value
        for path, kind, why in refused:
            where = clipped(prefix + ".".join(path))
            parent = structure.value_at(data, path[:-1])
            if kind == "unknown":
                known = ", ".join(structure.fields_of(type(base), path[:-1]))
                problems.append(f"unknown setting '{where}' (known: {known})")
                del parent[path[-1]]
                continue
            if kind == "object":
                problems.append(f"{where} must be an object, got {quoted(parent[path[-1]])}")
            else:
                problems.append(f"{where} {why}; using {quoted(structure.value_at(before, path))}")
            parent[path[-1]] = structure.value_at(before, path)
    raise AssertionError(f"settings still refused after falling back: {problems}")


def _overlay(base: dict, wire: dict) -> dict:
    """`base` (camelCase) with `wire` laid over it, section by section; snake_case keys are
    taken as camelCase."""
    out = dict(base)
    for key, value in wire.items():
        key = structure.camel(structure.snake(key)) if isinstance(key, str) else key
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _overlay(out[key], value)
        elif isinstance(out.get(key), dict) and (value is None or value == []):
            continue  # an empty section: nothing set
        else:
            out[key] = value
    return out


def from_wire(wire: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Editor settings → (Settings, messages about values that were ignored)."""
    problems: list[str] = []
    settings = merge(base or defaults(), wire, problems)
    return settings, problems


def reason_options(base: ReasonSettings, options: Any) -> ReasonSettings:
    """Per-request options over the configured ones; PonderError on any bad option."""
    problems: list[str] = []
    merged = merge(base, options, problems, prefix="options.")
    if problems:
        raise PonderError("bad option: " + "; ".join(p.split("; using")[0] for p in problems))
    return merged


def defaults() -> Settings:
    """Defaults, with the model taken from $PONDER_MODEL (its adapter from $PONDER_ADAPTER), a model server from
    $PONDER_BACKEND_URL and $PONDER_BACKEND_MODEL (what `ponder serve --backend-url` sets)."""
    settings = Settings(model=os.environ.get("PONDER_MODEL") or DEFAULT_MODEL)
    settings.adapter = os.environ.get("PONDER_ADAPTER", "")
    if os.environ.get("PONDER_BACKEND_URL"):
        settings.backend.kind = "openai"
        settings.backend.url = os.environ["PONDER_BACKEND_URL"]
        settings.backend.model = os.environ.get("PONDER_BACKEND_MODEL", "")
    return settings


def to_wire(value: Any) -> Any:
    return CONVERTER.unstructure(value)
