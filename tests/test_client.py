"""`ponder ask` and its LSP client (pygls's): a server whose output cannot be read, or that exits,
fails the request, never hangs; Ctrl-C cancels."""

import asyncio
import io
import json
import os
import signal
import subprocess
import sys

import pytest

from ponder.server.client import AskClient, LspError

GARBAGE = (
    "import sys, time\n"
    "sys.stdout.write('Content-Length: 5\\r\\n\\r\\n{bad}')\n"
    "sys.stdout.flush()\n"
    "time.sleep(30)\n"
)


async def stop(client: AskClient) -> None:
    if client.proc.returncode is None:
        client.proc.kill()
    await client.stop()
    client.proc._transport.close()  # type: ignore[attr-defined]  # before the loop closes


async def test_unreadable_output_fails_the_pending_request():
    client = AskClient()
    await client.start([sys.executable, "-c", GARBAGE])
    with pytest.raises(LspError, match="could not be read"):
        await asyncio.wait_for(client.request("ponder/status", {}), 10)
    await stop(client)


async def test_a_server_that_exits_fails_the_pending_request():
    client = AskClient()
    await client.start([sys.executable, "-c", "import sys; sys.stdin.readline()"])
    with pytest.raises(LspError, match="exited"):
        await asyncio.wait_for(client.request("ponder/status", {}), 10)
    await stop(client)


def ask(tmp_path, *args, model="scripted"):
    source = tmp_path / "a.py"
    source.write_text("def f(a, b):\n    return a + b\n")
    env = dict(os.environ, PONDER_HOME=str(tmp_path / "home"), PONDER_MODEL=model)
    argv = [sys.executable, "-m", "ponder", "ask", f"{source}:2", *args]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_ponder_ask_prints_the_answer_and_the_json(tmp_path):
    out, err = ask(tmp_path, "What does f(1, 2) return?").communicate(timeout=60)
    assert "Answer: it returns a + b" in out, (out, err)
    process = ask(tmp_path, "What does f(1, 2) return?", "--json")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and json.loads(out)["answer"] == "it returns a + b", err


def test_ctrl_c_cancels_the_request_and_the_server_says_why(tmp_path):
    process = ask(tmp_path, model="scripted:slow")
    assert process.stderr is not None
    # Until the server is reasoning (not a fixed sleep: the slow fake's one path for this open
    # question ends about 3.3 s after it starts, so a 3 s sleep raced the answer).
    for line in process.stderr:
        if line.startswith("thinking"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert "cancel" in err.lower(), err


def test_the_spinner_keeps_the_first_answer_on_screen():
    from ponder.server.client import Spinner

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    first = "first answer {'a': 1} · checking with 5 more paths"
    for stream in (Terminal(), io.StringIO()):
        spinner = Spinner(stream)
        spinner.show("thinking: 40 tokens")
        spinner.keep(first)
        spinner.show(f"{first}: 80 tokens")
        if stream.isatty():  # a line of its own, ended: the spinner rewrites only the next one
            assert f"\r\x1b[K{first}\n" in stream.getvalue()
        else:  # a log: one line a phase, the token counts not repeated
            assert stream.getvalue() == f"thinking: 40 tokens\n{first}\n"


def test_a_refused_option_is_said_once_and_zero_samples_is_refused(tmp_path):
    process = ask(tmp_path, "What does f(1, 2) return?", "--samples", "0")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, (out, err)
    assert err.count("samples must be between 1 and 32, got 0") == 1, err
    assert "WARNING" not in err, err  # the server's log says nothing `ask` does not


def test_an_unknown_model_is_said_once(tmp_path):
    process = ask(tmp_path, "What does f(1, 2) return?", model="nonsense")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, (out, err)
    # Once as the error (the progress log above it may say the load failed)
    assert err.count("ponder: unknown model 'nonsense'") == 1, err


def test_a_folder_is_refused_by_name(tmp_path):
    env = dict(os.environ, PONDER_HOME=str(tmp_path / "home"), PONDER_MODEL="scripted")
    argv = [sys.executable, "-m", "ponder", "ask", str(tmp_path), "x"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "is a folder" in done.stderr, done.stderr


def test_a_line_past_the_end_is_refused_in_the_users_terms_before_the_model_loads(tmp_path):
    source = tmp_path / "a.py"
    source.write_text("def f(a, b):\n    return a + b\n")
    env = dict(os.environ, PONDER_HOME=str(tmp_path / "home"), PONDER_MODEL="scripted")
    argv = [sys.executable, "-m", "ponder", "ask", f"{source}:4", "x"]  # 3: after the newline
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    # 1-based as typed (the server's own message counts LSP's 0-based lines), and said at once
    assert f"line 4 is past the end of {source} (2 lines)" in done.stderr, done.stderr
    assert "loading model" not in done.stderr, done.stderr
