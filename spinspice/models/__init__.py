"""Device physics: validated parameter sets and one symbolic definition per equation.

Never imports a simulator.  ``registry.MODELS`` lists every model.
"""
