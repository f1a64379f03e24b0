import pytest

from agent.errors import PonderError
from agent.settings import ReasonSettings, Settings, camel, from_wire, reason_options, to_wire


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
    from agent.settings import defaults

    monkeypatch.setenv("PONDER_MODEL", "smollm2-135m")
    assert defaults().model == "smollm2-135m"


def test_request_options_are_strict():
    assert reason_options(ReasonSettings(), {"samples": 3}).samples == 3
    with pytest.raises(PonderError, match="options.samples"):
        reason_options(ReasonSettings(), {"samples": 99})
    with pytest.raises(PonderError, match="unknown setting"):
        reason_options(ReasonSettings(), {"k": 3})
