"""Dialect-neutral circuit objects and pure, registered subcircuit generators.

``core.GENERATORS`` lists every generator; :mod:`spinspice.circuits.registry` is the one
registry of device models, neuron cells and their presets.  Netlist text is written by
:mod:`spinspice.netlists`, never here.
"""
