"""Stepped MAC (torch column currents into one-neuron runs) vs the full resistor crossbar as
one ngspice run, on a 784 x N layer (default N = 100), 25 steps: same spikes, time ratio.

    .venv/bin/python bench/modes.py [N]
"""

from __future__ import annotations

import sys

from common import layer_net, run_sample


def main(n: int = 100) -> None:
    net = layer_net(n)
    stepped, t_stepped = run_sample(net, 0, mode="stepped", group=1)
    full, t_full = run_sample(net, 0, mode="full", group=n)
    same = stepped["layers"][0]["circuit_steps"] == full["layers"][0]["circuit_steps"]
    spikes = sum(map(len, stepped["layers"][0]["circuit_steps"]))
    print(f"784x{n} layer, 25 steps, {spikes} spikes")
    print(f"  stepped MAC, {n} one-neuron runs: {t_stepped:.1f} s")
    print(f"  full crossbar, one run:            {t_full:.1f} s")
    print(f"  full / stepped: {t_full / t_stepped:.1f}x; identical spike steps: {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
