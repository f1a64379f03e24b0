"""`ponder doctor` (the llama.cpp build, the model) and `ponder models`."""

from __future__ import annotations

import sys
import time

from ponder.agent import models, step_costs
from ponder.server.cli.arguments import add_adapter, add_backend, command_settings


def add_command(sub) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="show the llama.cpp build, GPU offload, the resolved model and the model server",
    )
    doctor.add_argument("--model", help="model alias or .gguf path (default: the configured one)")
    add_adapter(doctor)
    add_backend(doctor)
    doctor.set_defaults(run=doctor_main)
    models_command = sub.add_parser("models", help="list the bundled model aliases")
    models_command.add_argument("--prepare", metavar="ALIAS", help="assemble and verify one now")
    models_command.set_defaults(run=models_main)


def doctor_main(args) -> None:
    from ponder.agent.engine import build_info

    info = build_info()
    settings, trusted = command_settings(args)
    print(f"llama-cpp-python {info['llama_cpp_python']}")
    print(f"GPU offload: {'supported' if info['gpu_offload'] else 'not supported (CPU build)'}")
    print(f"llama.cpp: {info['system_info']}")
    print(f"PONDER_HOME: {models.ponder_home()}")
    status = models.status(settings.model)
    print(f"model: {status['model']} ({status.get('description', 'a GGUF file')})")
    print(f"  path: {status['path']}")
    if "packages_installed" in status:
        print(f"  packages installed: {'yes' if status['packages_installed'] else 'no'}")
        if not status["packages_installed"]:
            print(f"  install: {status['install']}")
    print(f"  sha256: {status['sha256']}")
    saved = models.ponder_home() / step_costs.FILE_NAME
    for machine, verdict in step_costs.saved_verdicts(saved, str(status["path"])).items():
        print(f"  batching on {machine}: {verdict}")
    if settings.adapter and settings.backend.kind == "local":
        report_adapter(settings)
    from ponder.agent.confine import isolation

    print(f"code ponder runs (benchmarks, training data): confined by {isolation()}")
    if settings.backend.kind == "openai":
        report_backend(settings, trusted)


def report_adapter(settings) -> None:
    """Load the model with its adapter, as the server would, and say whether the adapter fits."""
    from ponder.agent.services import make_engine

    engine = make_engine(settings)
    engine.load()
    adapter = engine.adapter
    if adapter is None:
        print(f"adapter: {settings.adapter}: REFUSED: {engine.adapter_problem}")
    else:
        print(
            f"adapter: {adapter.name} ({adapter.path}, sha256 {adapter.sha256[:12]}…), "
            f"trained for {adapter.base or 'an unnamed model'}: loads on {engine.name}"
        )
    engine.close()


def report_backend(settings, trusted: str) -> None:
    """Whether the model server answers, what it serves, and what the strategies can use there.
    Exits 1 when it cannot be reached (the message says what to do)."""
    from ponder.agent.services import remote_engine

    print(f"backend: {settings.backend.url} (OpenAI-compatible)")
    engine = remote_engine(settings, trusted)
    engine.load()
    caps = engine.capabilities
    assert caps is not None  # load() probed the server
    print("  reachable: yes")
    print(f"  model: {engine.model} (served: {', '.join(caps.models) or 'not listed'})")
    limit = f"up to {caps.n_max}" if caps.n_max else "no limit"
    print(f"  n completions per request: {f'yes ({limit})' if caps.n else 'no (one per path)'}")
    print(
        "  logprobs: "
        + ("yes" if caps.logprobs else "no (cot_decoding unavailable, votes unweighted)")
    )


def models_main(args) -> None:
    if args.prepare:
        started = time.perf_counter()

        shown = [-1]

        def progress(done: int, total: int) -> None:
            percent = done * 100 // total
            if percent // 10 != shown[0] // 10:  # every 10%
                shown[0] = percent
                print(f"{args.prepare}: checking {percent}%", file=sys.stderr)

        resolved = models.resolve(args.prepare, progress=progress)
        print(f"{resolved.name}: {resolved.path} ({time.perf_counter() - started:.1f} s)")
        return
    for spec in models.MODELS.values():
        status = models.status(spec.alias)
        mark = "*" if spec.alias == models.DEFAULT_MODEL else " "
        state = (
            "installed" if status["packages_installed"] else f"not installed: {spec.install_hint()}"
        )
        print(f"{mark} {spec.alias:20} {spec.description:40} {state}")
