"""The llama.cpp CPU build's flags, read from the CPU's flags (scripts/llama_build_flags.sh)."""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "llama_build_flags.sh"


def fake_cpuinfo(tmp_path: Path, cpu_flags: str) -> Path:
    """A /proc/cpuinfo naming these flags, for the scripts' CPUINFO."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"flags\t\t: {cpu_flags}\n")
    return cpuinfo


def flags_for(tmp_path: Path, cpu_flags: str) -> list[str]:
    cpuinfo = fake_cpuinfo(tmp_path, cpu_flags)
    # Sourced under `set -e`, as the build scripts do.
    script = f'set -euo pipefail; flavour=cpu; source "{SCRIPT}"; echo "${{flags[*]}}"'
    done = subprocess.run(["bash", "-c", script], env={"CPUINFO": str(cpuinfo)},
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("cpu_flags", ["avx avx2 fma", "avx2 avx512f avx512_vnni", "avx2 avx_vnni"])
def test_every_cpu_gets_its_flags_and_the_source_succeeds(tmp_path, cpu_flags):
    """A CPU without AVX-VNNI made the last test of the file fail the `source` under set -e, and
    the wheel was never built."""
    flags = flags_for(tmp_path, cpu_flags)
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AVX2=ON" in flags
    assert ("-DGGML_AVX512=ON" in flags) == ("avx512f" in cpu_flags)
    assert ("-DGGML_AVX_VNNI=ON" in flags) == ("avx_vnni" in cpu_flags)
    assert not any("AMX" in flag for flag in flags)


WHEEL_SCRIPT = SCRIPT.parent / "build_llama_wheel.sh"


def build_wheel(tmp_path: Path, cpu_flags: str) -> subprocess.CompletedProcess:
    """build_llama_wheel.sh with a fake pip that logs its call and writes an empty wheel."""
    cpuinfo = fake_cpuinfo(tmp_path, cpu_flags)
    pip = tmp_path / "pip"
    pip.write_text('#!/bin/sh\necho built >> "$(dirname "$0")/pip.log"\n'
                   'while [ "$1" != -w ]; do shift; done\n'
                   'touch "$2/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"\n')  # fmt: skip
    pip.chmod(0o755)
    env = {"CPUINFO": str(cpuinfo), "PIP": str(pip), "PATH": "/usr/bin:/bin",
           "PONDER_WHEEL_CACHE": str(tmp_path / "wheels")}  # fmt: skip
    return subprocess.run(["bash", str(WHEEL_SCRIPT)], env=env, capture_output=True, text=True)


def test_a_wheel_cached_with_other_cpu_flags_is_rebuilt(tmp_path):
    """A cached wheel is reused only by a CPU with the flags it was built with: one built with
    AVX-512 would crash on a CPU without it."""
    first = build_wheel(tmp_path, "avx2 avx512f avx512_vnni")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(".whl")
    assert "AVX512" in (tmp_path / "wheels" / "cpu-0.3.36" / "flags").read_text()
    again = build_wheel(tmp_path, "avx2 avx512f avx512_vnni")
    assert again.returncode == 0 and again.stdout == first.stdout
    assert (tmp_path / "pip.log").read_text().count("built") == 1  # same CPU: reused
    other = build_wheel(tmp_path, "avx avx2 fma")
    assert other.returncode == 0, other.stderr
    assert "made with other flags" in other.stderr
    assert (tmp_path / "pip.log").read_text().count("built") == 2  # other CPU: rebuilt
    assert "AVX512" not in (tmp_path / "wheels" / "cpu-0.3.36" / "flags").read_text()
