"""Training spiking networks whose neurons are the device models (SPEC 4)."""
