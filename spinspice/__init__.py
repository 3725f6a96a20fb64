"""spinspice: spintronic spiking neural networks as ngspice circuits.

Device physics lives in :mod:`spinspice.models`, circuit generators in
:mod:`spinspice.circuits`, netlist writers in :mod:`spinspice.netlists`, and
everything that runs a simulator in :mod:`spinspice.cosim`.
"""

__version__ = "0.1.0"
