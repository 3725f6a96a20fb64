"""Regenerate the example traces shipped for `spinspice calibrate` (spinspice/data/calibration/).

Each trace comes from the model's own open-loop equations with the generating
parameters of ``spinspice.experiments.calibrate.EXAMPLES`` (recorded in the file's
``# true_params`` line) plus seeded Gaussian read-out noise.  Run:

    .venv/bin/python docs/gen_calibration_examples.py
"""

from __future__ import annotations

from spinspice.experiments.calibrate import EXAMPLES, base_params, example_path, make_example, write_trace


def main() -> None:
    for model in EXAMPLES:
        base, _ = base_params(model)
        path = write_trace(example_path(model), make_example(model, base, seed=0))
        print(f"{model}: {path}")


if __name__ == "__main__":
    main()
