"""Model assembly from chunk packages, with small fake packages on sys.path."""

import hashlib
import os
import sys

import pytest

from ponder.agent import models
from ponder.agent.errors import PonderError


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A 3-part 'model' in packages fakepart1..3, registered as alias 'fake-model'."""
    site = tmp_path / "site"
    chunks = [b"GGUF" + os.urandom(1000), os.urandom(1000), os.urandom(500)]
    for n, chunk in enumerate(chunks, start=1):
        pkg = site / f"fakepart{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(chunks)
    spec = models.ModelSpec(
        alias="fake-model", description="fake", extra="fake-model",
        packages=("fakepart1", "fakepart2", "fakepart3"), member="data/part{n:02d}.bin",
        sha256=hashlib.sha256(whole).hexdigest(), size=len(whole),
    )  # fmt: skip
    monkeypatch.setitem(models.MODELS, "fake-model", spec)
    yield spec, whole, site
    for n in range(1, 4):
        sys.modules.pop(f"fakepart{n}", None)


def test_assembles_and_verifies(fake_model):
    spec, whole, _ = fake_model
    resolved = models.resolve("fake-model")
    assert resolved.path.read_bytes() == whole and resolved.verified
    assert models.status("fake-model")["sha256"].startswith("ok")


def test_corrupt_file_is_rebuilt(fake_model):
    spec, whole, _ = fake_model
    path = models.resolve("fake-model").path
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, new mtime: the stamp no longer matches
    assert models.status("fake-model")["sha256"].startswith("MISMATCH")
    assert models.resolve("fake-model").path.read_bytes() == whole


def test_partial_file_is_rebuilt(fake_model):
    spec, whole, _ = fake_model
    path = models.resolve("fake-model").path
    path.write_bytes(whole[:100])
    assert models.resolve("fake-model").path.read_bytes() == whole


def test_missing_package_names_what_to_install(fake_model):
    spec, _, site = fake_model
    (site / "fakepart2" / "data" / "part02.bin").unlink()
    with pytest.raises(
        PonderError, match=r"missing package fakepart2.*pip install 'ponder\[fake-model\]'"
    ):
        models.resolve("fake-model")


def test_corrupt_package_gives_a_clear_message(fake_model):
    spec, _, site = fake_model
    part = site / "fakepart3" / "data" / "part03.bin"
    part.write_bytes(os.urandom(500))
    with pytest.raises(PonderError, match="sha256"):
        models.resolve("fake-model")
    assert not (models.models_dir() / "fake-model.gguf").exists()  # nothing half-built left


def test_paths_and_unknown_names(tmp_path):
    good = tmp_path / "x.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 10)
    assert models.resolve(str(good)).path == good
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"nope")
    with pytest.raises(PonderError, match="not a GGUF"):
        models.resolve(str(bad))
    with pytest.raises(PonderError, match="does not exist"):
        models.resolve(str(tmp_path / "missing.gguf"))
    with pytest.raises(PonderError, match="unknown model 'llama-9000'"):
        models.resolve("llama-9000")


def test_a_users_own_file_under_the_alias_is_never_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("PONDER_HOME", str(tmp_path / "home"))
    spec = models.MODELS["smollm2-135m"]
    assert not spec.chunked  # a single-file package: its alias is a link ponder makes
    own = models.models_dir() / "smollm2-135m.gguf"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_bytes(b"my own file")
    with pytest.raises(PonderError, match="did not create"):
        models.assemble(spec)
    assert own.read_bytes() == b"my own file"
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
