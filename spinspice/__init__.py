"""spinspice: spintronic spiking neural networks as ngspice circuits.

Packages by job, imports one way (models -> circuits -> netlists -> sim -> experiments ->
snn -> cosim -> demo -> cli): device physics in :mod:`spinspice.models`, circuit generators
and the registry of models, cells and presets in :mod:`spinspice.circuits`, netlist writers
in :mod:`spinspice.netlists`, running a simulator in :mod:`spinspice.sim`, single-device
studies in :mod:`spinspice.experiments`, training and import in :mod:`spinspice.snn`,
trained network -> circuits -> report in :mod:`spinspice.cosim`, the main job in
:mod:`spinspice.demo`.  Every command of the CLI is one call of these packages' API
(docs/api.md).
"""

__version__ = "0.1.0"
