"""Shared fixtures.  Simulator tests are marked ``ngspice`` and skip with a
clear reason when ngspice is absent (CI installs it, so there they run)."""

from __future__ import annotations

import functools

import pytest

from spinspice.cosim.backends import BatchBackend, SharedBackend


@functools.cache
def _ngspice_status() -> tuple[bool, bool]:
    return BatchBackend().available(), SharedBackend().available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    batch, shared = _ngspice_status()
    if batch and shared:
        return
    reason = "ngspice not installed (run `make install` or apt-get install ngspice libngspice0)"
    for item in items:
        if "ngspice" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@functools.cache
def neuron_run(backend: str, t_off_s: float, duration_s: float):
    """One cached paper-001 neuron run (reused by several tests)."""
    from spinspice.circuits.cell import get_preset
    from spinspice.cosim.neuron import run_neuron
    from spinspice.models.waveforms import PulseTrain

    return run_neuron(get_preset("paper-001"), PulseTrain(t_off_s=t_off_s), duration_s, backend=backend)
