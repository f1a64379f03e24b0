import pytest

from ponder.agent.errors import PonderError
from ponder.agent.settings import ReasonSettings, Settings, from_wire, reason_options, to_wire
from ponder.agent.structure import camel


def test_defaults_and_camel_case_round_trip():
    wire = to_wire(Settings())
    assert wire["reason"]["maxTokens"] == 512 and wire["contextSize"] == 8192
    settings, problems = from_wire(wire)
    assert problems == [] and settings == Settings()
    assert camel("max_tokens") == "maxTokens"


def test_bad_values_fall_back_with_messages():
    settings, problems = from_wire(
        {
            "reason": {"samples": 0, "temperature": "hot", "strategy": "x"},
            "unknown": 1,
            "gpuLayers": 3,
        }
    )
    assert settings.reason == ReasonSettings()
    assert settings.gpu_layers == 3
    assert len(problems) == 4
    assert any("reason.samples must be between 1 and 32" in p for p in problems)


def test_not_an_object():
    settings, problems = from_wire(["x"])
    assert settings == Settings() and problems


def test_env_model(monkeypatch):
    from ponder.agent.settings import defaults

    monkeypatch.setenv("PONDER_MODEL", "smollm2-135m")
    assert defaults().model == "smollm2-135m"


def test_request_options_are_strict():
    assert reason_options(ReasonSettings(), {"samples": 3}).samples == 3
    with pytest.raises(PonderError, match="options.samples"):
        reason_options(ReasonSettings(), {"samples": 99})
    with pytest.raises(PonderError, match="unknown setting"):
        reason_options(ReasonSettings(), {"k": 3})


def test_nan_and_infinity_are_refused_with_a_message():
    from ponder.agent.settings import from_wire

    for bad in (float("nan"), float("inf"), 1e400, 10**400, -(10**400)):
        settings, problems = from_wire({"reason": {"temperature": bad, "samples": bad}})
        assert settings.reason.temperature == 0.5 and settings.reason.samples == 6
        assert len(problems) == 2 and all("finite" in p for p in problems)


def test_top_p_one_samples_without_error():
    import numpy as np

    from ponder.agent.engine import _sample_rows

    logits = np.zeros((3, 7), dtype=np.float32)  # 7 equal tokens: their cumsum ends below 1.0
    rngs = [np.random.default_rng(i) for i in range(3)]
    for _ in range(50):
        picked = _sample_rows(logits, rngs, temperature=1.0, top_p=1.0)
        assert ((0 <= picked) & (picked < 7)).all()


def test_the_server_version_is_the_package_version():
    from importlib.metadata import version

    from ponder import VERSION

    assert VERSION == version("ponder")


def test_ponder_version_prints_it(capsys):
    from ponder import VERSION
    from ponder.server.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"ponder {VERSION}\n"


def test_sections_keys_and_messages():
    settings, problems = from_wire(
        {
            "reason": 5,
            "memory": None,
            "inline": [],
            "backend": {"timeout_s": 30, "maxConcurrent": 0},
        }
    )
    assert settings.reason == ReasonSettings() and settings.backend.timeout_s == 30.0
    assert settings.backend.max_concurrent == 8
    assert problems == [
        "reason must be an object, got 5",
        "backend.maxConcurrent must be between 1 and 64, got 0; using 8",
    ]
    base, _ = from_wire({"reason": {"samples": 3}})
    again, problems = from_wire({"reason": {"temperature": 0.2, "samples": True}}, base=base)
    assert (again.reason.samples, again.reason.temperature) == (3, 0.2)
    assert problems == ["reason.samples must be a number, got True; using 3"]


def test_a_choice_outside_its_literal_is_refused_with_the_choices_and_the_default_kept():
    settings, problems = from_wire(
        {"reason": {"strategy": "fast", "schedule": True}, "backend": {"kind": "x"}}
    )
    assert settings.reason.strategy == "auto" and settings.backend.kind == "local"
    assert problems == [
        "backend.kind must be one of local, openai, got 'x'; using 'local'",
        "reason.strategy must be one of auto, greedy, self_consistency, cot_decoding, got 'fast'; "
        "using 'auto'",
        "reason.schedule must be one of auto, batch, greedy_first, got True; using 'auto'",
    ]
