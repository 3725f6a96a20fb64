"""A trained network -> circuits -> simulator -> report.

- :func:`write_netlists` (:mod:`.netlists`): standalone ngspice netlists + manifest of a
  checkpoint for one test image (:mod:`.build` turns the network into layer circuits);
- :func:`run` (:mod:`.runs`): co-simulate test images through the transient circuit,
  layer by layer (:mod:`.runner`), compare the spikes with the network's
  (:mod:`.agreement`), and report agreement, latency and energy (:mod:`.report`);
- :func:`sweep` (:mod:`.grid`): a grid of co-simulations with a trade-off table and plot;
- :func:`verify_raw` (:mod:`.verify`): check a netlist run elsewhere against its manifest.

Every call returns a result with ``.report()``, ``.summary()`` and ``.write(folder)``;
``run`` and ``sweep`` journal their jobs and resume with ``resume=True``.
"""

from __future__ import annotations

from spinspice.cosim.grid import SweepResult, sweep
from spinspice.cosim.netlists import NetlistResult, write_netlists
from spinspice.cosim.runner import CosimSettings, cosim_settings
from spinspice.cosim.runs import CosimResult, run
from spinspice.cosim.verify import VerifyResult, verify_raw

__all__ = [
    "CosimResult",
    "CosimSettings",
    "NetlistResult",
    "SweepResult",
    "VerifyResult",
    "cosim_settings",
    "run",
    "sweep",
    "verify_raw",
    "write_netlists",
]
