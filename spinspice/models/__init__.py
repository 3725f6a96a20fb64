"""Device physics: validated parameter sets and one symbolic definition per equation.

Never imports a simulator or an integrator.  :data:`spinspice.circuits.registry.MODELS`
lists every model (with its cells and presets).
"""
