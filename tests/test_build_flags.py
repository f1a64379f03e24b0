"""The llama.cpp CPU build's flags, read from the CPU's flags (scripts/llama_build_flags.sh)."""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "llama_build_flags.sh"


def flags_for(tmp_path: Path, cpu_flags: str) -> list[str]:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"flags\t\t: {cpu_flags}\n")
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
