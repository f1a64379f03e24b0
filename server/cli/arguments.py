"""Argument types and groups that several commands share."""

from __future__ import annotations

import argparse

from ponder.agent.settings import Settings, defaults

SPLITS = ("all", "train", "validation")  # agent/evaluation/harness.py load_items


def at_least(low: int):
    """An argparse type: an integer no smaller than `low` (argparse names the flag)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse's message for a non-number: "invalid integer value"
    return parse


def positive(text: str) -> float:
    """An argparse type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def add_items(command: argparse.ArgumentParser, limit: int, what: str) -> None:
    """The arguments every command over CRUXEval items takes."""
    command.add_argument("--data", default="../shared/data/cruxeval-dev.jsonl", help="JSONL items")
    command.add_argument(
        "--limit", type=at_least(1), default=limit, help=f"{what} (default {limit})"
    )
    command.add_argument("--offset", type=at_least(0), default=0, help="skip this many items first")
    command.add_argument(
        "--every",
        type=at_least(1),
        default=1,
        metavar="N",
        help="take every Nth item from --offset on (a spread sample of the split; default 1)",
    )
    command.add_argument(
        "--split",
        choices=SPLITS,
        default="all",
        help="the functions ponder learn trains on, or those it never sees (a hash of the "
        "code: 181 of the 640 dev items are validation)",
    )
    command.add_argument("--model", help="model alias or .gguf path")
    add_adapter(command)


def add_adapter(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--adapter",
        metavar="FILE",
        help="a LoRA adapter for the model (.gguf, from ponder learn; env PONDER_ADAPTER)",
    )


def add_backend(command: argparse.ArgumentParser) -> None:
    """The arguments that point ponder at a team's model server."""
    command.add_argument(
        "--backend-url",
        metavar="URL",
        help="reason with an OpenAI-compatible model server (llama-server, vLLM) at URL, e.g. "
        "http://gpu-box:8080/v1, instead of a model in this process (env PONDER_BACKEND_URL)",
    )
    command.add_argument(
        "--backend-model",
        metavar="NAME",
        help="the served model's name (default: the first the server lists)",
    )


def command_settings(args) -> tuple[Settings, str]:
    """The defaults with --model, --adapter and, for a command that takes them, --backend-url
    and --backend-model applied. Returns them and the URL the user gave here (the one a
    workspace setting may not change into another machine: services.check_backend_location)."""
    settings = defaults()
    if args.model:
        settings.model = args.model
    if args.adapter is not None:
        settings.adapter = args.adapter
    url = getattr(args, "backend_url", None) or ""
    if url:
        settings.backend.kind = "openai"
        settings.backend.url = url
    if getattr(args, "backend_model", None):
        settings.backend.model = args.backend_model
    return settings, url
