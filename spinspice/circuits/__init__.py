"""Dialect-neutral circuit objects and pure, registered subcircuit generators.

``core.GENERATORS`` lists every generator; netlist text is written by
:mod:`spinspice.netlists`, never here.
"""
