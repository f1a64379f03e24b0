"""Code ponder runs for a user or a data set runs confined: limits, a temporary folder, a clean
environment, no network."""

import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

from ponder.agent import confine

QUICK = confine.Limits(cpu_s=1, wall_s=3.0, memory_mb=512, output_bytes=64 * 1024)


def test_a_script_runs_with_its_stdin_and_args_in_a_fresh_folder():
    script = (
        "import os, sys; print(sys.stdin.read().upper(), sys.argv[1], os.listdir('.'), os.getcwd())"
    )
    done = confine.run_python(script, stdin="in", args=("arg",), limits=QUICK)
    assert done.ok and done.why == "", done.stderr
    text, arg, listed, folder = done.stdout.split(" ", 3)
    assert (text, arg, listed) == ("IN", "arg", "[]")
    assert "ponder-run-" in folder
    assert not __import__("os").path.exists(folder.strip())  # removed afterwards


def test_the_parents_environment_does_not_reach_the_child(monkeypatch):
    monkeypatch.setenv("PONDER_SECRET_TOKEN", "hunter2")
    done = confine.run_python("import os; print(sorted(os.environ))", limits=QUICK)
    assert done.ok and "PONDER_SECRET_TOKEN" not in done.stdout and "hunter2" not in done.stdout


def test_the_child_writes_in_its_own_folder_and_nowhere_else(tmp_path):
    outside = tmp_path / "escaped.txt"  # a folder the parent can write to
    script = (
        "import pathlib, sys\n"
        "pathlib.Path('inside.txt').write_text('ok')\n"
        "for target in sys.argv[1:]:\n"
        "    try:\n"
        "        pathlib.Path(target).write_text('escaped'); print('wrote', target)\n"
        "    except OSError as e:\n"
        "        print('refused', target, e.errno)\n"
    )
    targets = (str(outside), "/tmp/ponder-escaped.txt", str(Path.home() / "ponder-escaped.txt"))
    done = confine.run_python(script, args=targets, limits=QUICK)
    assert done.ok, done.stderr
    # bubblewrap's private /tmp may take a write that then vanishes; nothing reaches the machine
    assert not [target for target in targets if Path(target).exists()], done.stdout
    assert f"refused {targets[2]}" in done.stdout, done.stdout


def test_a_loop_that_never_ends_is_stopped_by_its_cpu_limit():
    started = time.monotonic()
    done = confine.run_python("while True: pass", limits=QUICK)
    assert not done.ok and done.why == "ran past its CPU-time limit", (done.returncode, done.stderr)
    assert time.monotonic() - started < QUICK.wall_s + 1


def test_a_child_that_sleeps_is_stopped_at_the_wall_clock_limit():
    done = confine.run_python("import time; time.sleep(60)", limits=replace(QUICK, wall_s=1.0))
    assert done.returncode is None and done.why == "ran past its time limit"


def test_allocating_without_limit_is_stopped_by_the_memory_limit():
    done = confine.run_python("x = bytearray(4 * 1024**3)", limits=QUICK)
    assert not done.ok and done.why == "MemoryError", done.stderr


def test_endless_output_is_cut_at_the_output_limit():
    done = confine.run_python("while True: print('x' * 1000)", limits=QUICK)
    assert not done.ok and done.why == "wrote past its output limit", done.returncode
    assert len(done.stdout) <= QUICK.output_bytes


def test_the_child_has_no_network_not_even_the_parents_loopback():
    """A server listening on this machine's loopback: the parent reaches it, the child does not
    (its network namespace has no interface up). Where no namespace can be made, ponder says
    so (`isolation()` is "limits only", shown by `ponder doctor`); these machines have one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the parent can
    script = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
    )
    done = confine.run_python(script, limits=QUICK)
    listener.close()
    assert confine.isolation() in ("bubblewrap", "namespaces")
    assert done.ok and done.stdout.startswith("refused"), done.stdout + done.stderr
