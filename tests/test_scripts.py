"""scripts/ holds what a maintainer runs: each one says what it is for with --help."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKED = subprocess.run(
    ["git", "ls-files", "scripts"], cwd=ROOT, capture_output=True, text=True, check=True
).stdout.split()
PYTHON = [ROOT / p for p in TRACKED if p.endswith(".py")]
SHELL = [ROOT / p for p in TRACKED if p.endswith(".sh")]


def first_line_of_docstring(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f"{path.name} has no docstring"
    return doc.splitlines()[0]


@pytest.mark.parametrize("script", PYTHON, ids=lambda p: p.name)
def test_a_python_script_prints_its_purpose_with_help(script):
    done = subprocess.run(
        [sys.executable, script, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert first_line_of_docstring(script) in " ".join(done.stdout.split())


@pytest.mark.parametrize("script", SHELL, ids=lambda p: p.name)
def test_a_shell_script_prints_its_purpose_with_help_or_is_sourced(script):
    if not os.access(script, os.X_OK):  # a helper the build scripts source, never run
        assert any(f"/{script.name}" in other.read_text() for other in SHELL if other != script)
        return
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    first_comment = script.read_text().splitlines()[1].lstrip("# ")
    assert done.returncode == 0 and done.stdout.startswith(first_comment), done.stdout


def test_scripts_are_few_and_every_one_is_a_tool():
    assert len(PYTHON) + len(SHELL) <= 20 and PYTHON and SHELL
