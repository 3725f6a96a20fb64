"""Several neurons per ngspice process (issue 17 item 3) against one process per neuron: the
stepped co-simulation of one 784 x N layer, one process, side by side; identical spikes.

    .venv/bin/python bench/batching.py [N]
"""

from __future__ import annotations

import sys

from common import layer_net, run_sample

from spinspice.cosim import runner


def main(n: int = 100) -> None:
    net = layer_net(n)
    run_sample(net, 0)  # warm-up: compiled modules, caches
    walls, steps = {}, {}
    for size in (1, runner.MAX_BATCH):
        saved, runner.MAX_BATCH = runner.MAX_BATCH, size
        try:
            res, walls[size] = run_sample(net, 0)
        finally:
            runner.MAX_BATCH = saved
        steps[size] = res["layers"][0]["circuit_steps"]
        print(f"784x{n}, at most {size:2d} neurons per ngspice process: {walls[size]:.2f} s")
    one, many = walls[1], walls[runner.MAX_BATCH]
    same = steps[1] == steps[runner.MAX_BATCH]
    print(f"  batched / one per process: {many / one:.2f} ({one / many:.2f}x faster); same spikes: {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
