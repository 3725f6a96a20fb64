"""Simulator faults of round 2 (issue 19 item 7): an OSDI module that fails to compile, an
openvaf-r that does not run, an ngspice without OSDI. Each is one line; where a fallback
exists (B-source models) it is taken and reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ngspice

BROKEN_OPENVAF = """#!/bin/sh
# compiles spinspice's OSDI probe module only; every device module is an internal error
if [ "$1" = "--version" ]; then echo "broken-openvaf 0.1"; exit 0; fi
case "$1" in *spinspice_probe_r*) exec "$REAL_OPENVAF" "$@";; esac
echo "error: internal compiler error in $1" >&2
exit 101
"""


def _spinspice(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from spinspice.cli import entry; entry()", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env}, cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def broken_openvaf(tmp_path):
    from spinspice.sim.osdi import openvaf_path

    real = openvaf_path()
    if real is None or os.environ.get("SPINSPICE_OPENVAF"):
        pytest.skip("needs the installed openvaf-r")
    exe = tmp_path / "openvaf-r"
    exe.write_text(BROKEN_OPENVAF)
    exe.chmod(0o755)
    return {"SPINSPICE_OPENVAF": str(exe), "REAL_OPENVAF": real, "SPINSPICE_CACHE": str(tmp_path / "cache")}


def test_a_module_that_does_not_compile_falls_back_to_bsource(tmp_path, broken_openvaf) -> None:
    from spinspice.sim.osdi import capabilities

    if not capabilities().osdi:
        pytest.skip("this ngspice has no OSDI: auto runs B-sources anyway")
    run = _spinspice(
        ["neuron", "--duration", "40ns", "--no-reference", "--out", "n"], broken_openvaf, tmp_path
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "n" / "report.json").read_text())
    assert report["device_models"] == "bsource" and report["n_spikes"] == 2
    assert "could not compile" in report["device_models_fallback"]
    warning = [x for x in run.stderr.splitlines() if "warning" in x]
    assert len(warning) == 1 and "running the B-source device models instead" in warning[0]
    # asked for explicitly, the compiled form is an error, in one line
    run = _spinspice(
        ["--models", "osdi", "neuron", "--duration", "40ns", "--out", "m"], broken_openvaf, tmp_path
    )
    assert run.returncode == 1
    assert (
        run.stderr.count("\n") == 1
        and "internal compiler error" in run.stderr
        and "--models bsource" in run.stderr
    )
    assert not (tmp_path / "m").exists()


def test_an_openvaf_that_does_not_run_or_an_ngspice_without_osdi_runs_bsource(tmp_path) -> None:
    gone = {"SPINSPICE_OPENVAF": str(tmp_path / "missing-openvaf"), "SPINSPICE_CACHE": str(tmp_path / "c")}
    run = _spinspice(["neuron", "--duration", "40ns", "--no-reference", "--out", "n"], gone, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "n" / "report.json").read_text())["device_models"] == "bsource"
    run = _spinspice(["--models", "osdi", "neuron", "--out", "m"], gone, tmp_path)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "use --models bsource" in run.stderr
    # an ngspice that cannot load OSDI modules (a wrapper that drops pre_osdi lines)
    wrapper = tmp_path / "ngspice"
    wrapper.write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in *.cir) sed -i \'/pre_osdi/d\' "$a";; esac; done\n'
        'exec ngspice "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {"SPINSPICE_NGSPICE": str(wrapper), "SPINSPICE_CACHE": str(tmp_path / "c2")}
    run = _spinspice(["models"], env, tmp_path)
    assert run.returncode == 0
    run = _spinspice(["--models", "osdi", "neuron", "--backend", "batch", "--out", "w"], env, tmp_path)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "does not load OSDI" in run.stderr
