"""Stepped-MAC circuit time over the torch reference time for the same 784 x N layer and the
same 25 write slots (the torch device neuron integrates each slot exactly, with comparator
events), and their spike agreement.

    .venv/bin/python bench/vs_torch.py [N]
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from common import layer_net, mnist, run_sample, timed


def main(n: int = 100) -> None:
    net = layer_net(n)
    image = mnist().x_test[0]
    x = torch.as_tensor(np.asarray(image, np.float32)[None])

    def reference() -> None:
        with torch.no_grad():
            net(x, generator=torch.Generator().manual_seed(0), record=True)

    reference()  # warm-up (torch start-up, first-call costs)
    _, t_torch = timed(lambda: [reference() for _ in range(5)])
    t_torch /= 5
    res, t_circuit = run_sample(net, 0)
    agree = res["layers"][0]["vs_torch"]["spike_agreement"]
    print(
        f"784x{n} layer, 25 steps: torch reference {t_torch * 1e3:.1f} ms, "
        f"stepped-MAC circuit {t_circuit:.1f} s"
    )
    print(f"  circuit / torch: {t_circuit / t_torch:.0f}x; spike agreement {agree * 100:.1f} %")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
