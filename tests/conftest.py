import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The real model the end-to-end tests run (make test installs it).
TEST_MODEL = os.environ.get("PONDER_TEST_MODEL", "smollm2-135m")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Each test gets its own PONDER_HOME (models are symlinked or re-assembled there)."""
    monkeypatch.setenv("PONDER_HOME", str(tmp_path / "ponder-home"))
    monkeypatch.delenv("PONDER_MODEL", raising=False)


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    """Every test under tests/e2e/ runs the real thing (a GGUF model, Neovim, the embedder):
    marked `e2e`, so `pytest -m "not e2e"` is the fast lane (unit and scripted-engine tests)."""
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
