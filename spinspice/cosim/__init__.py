"""Everything that runs a simulator or touches disk: backends, reference, metrics, reports."""
