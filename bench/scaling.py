"""Stepped-MAC cost vs the number of neurons (784 inputs, 25 steps, one process): wall time
at 100, 250, 500, 1000 neurons and the fitted exponent of time ~ N^k.

    .venv/bin/python bench/scaling.py [N1,N2,...]
"""

from __future__ import annotations

import sys

import numpy as np
from common import layer_net, run_sample


def main(sizes: list[int]) -> None:
    times = []
    for n in sizes:
        res, t = run_sample(layer_net(n), 0)
        times.append(t)
        print(
            f"  {n:5d} neurons: {t:7.1f} s ({t / n * 1e3:.0f} ms per neuron, "
            f"{res['layers'][0]['time_points']} time points)"
        )
    k = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    print(
        f"fitted exponent time ~ N^k: k = {k:.3f} "
        f"({sizes[0]} -> {sizes[-1]} neurons: {times[-1] / times[0]:.1f}x time)"
    )


if __name__ == "__main__":
    main([int(v) for v in sys.argv[1].split(",")] if len(sys.argv) > 1 else [100, 250, 500, 1000])
