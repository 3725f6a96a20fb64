"""Single-device studies: one neuron cell, field maps, pulse-count distributions, Co/Gd, calibration."""
