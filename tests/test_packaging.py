"""The wheel a user installs (`pip install .`, pipx): one import name, every subpackage in it, a
`ponder` command that works outside the source tree."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"server": "ponder/server", "agent": "ponder/agent", "memory": "ponder/memory"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the tracked files (the checkout's own build/ stays clean)."""
    tmp = tmp_path_factory.mktemp("wheel")
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
        text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    source = tmp / "source"
    for name in filter(None, tracked):
        if (ROOT / name).is_file() and not name.startswith(("docs/", "editors/")):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (built,) = (tmp / "dist").glob("ponder-*.whl")
    return built


def test_the_wheel_holds_every_subpackage_under_one_import_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"ponder", f"ponder-{wheel.name.split('-')[1]}.dist-info"}
    # Every package folder of the source is in the wheel, under its ponder.* name.
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            assert f"{package}/{init.relative_to(ROOT / folder).as_posix()}" in names
    assert "ponder/server/cli/__init__.py" in names and "ponder/py.typed" in names
    entry_points = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "ponder = ponder.server.cli:main" in entry_points


def test_the_installed_wheel_runs_outside_the_source_tree(wheel, tmp_path):
    """A fresh virtualenv with the wheel alone; its dependencies are this environment's (a .pth
    file adds its site-packages, whose .pth files, the editable install among them, do not run)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    fresh = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())  # fmt: skip
    (fresh / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    def run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, **kwargs
        )

    where = run(str(python), "-c", "import ponder.server.cli as c; print(c.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(fresh))  # the installed copy, not the checkout
    for top in ("server", "agent", "memory"):
        refused = run(str(python), "-c", f"import {top}")
        assert refused.returncode == 1 and "ModuleNotFoundError" in refused.stderr
    helped = run(str(venv / "bin" / "ponder"), "--help")
    assert helped.returncode == 0 and "serve" in helped.stdout
    models = run(str(venv / "bin" / "ponder"), "models")
    assert models.returncode == 0 and "qwen2.5-coder-1.5b" in models.stdout
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"processId": None, "rootUri": None, "capabilities": {}}}  # fmt: skip
    body = json.dumps(initialize).encode()
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()
    framed = b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(m), m) for m in (body, exit_))
    served = subprocess.run(
        [str(venv / "bin" / "ponder"), "serve"], input=framed, cwd=tmp_path, capture_output=True,
        timeout=120,
    )  # fmt: skip
    header, rest = served.stdout.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"Content-Length: (\d+)", header).group(1))
    assert json.loads(rest[:length])["result"]["serverInfo"]["name"] == "ponder"
