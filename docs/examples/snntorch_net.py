"""A plain snnTorch network for `spinspice import-snntorch docs/examples/snntorch_net.py:build`.

``build()`` returns the network with its weights; a real one would load a trained state_dict
here (``net.load_state_dict(torch.load("weights.pt", weights_only=True))``).
"""

import snntorch as snn
import torch


def build() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 100),
        snn.Leaky(beta=0.9, init_hidden=True),
        torch.nn.Linear(100, 10),
        snn.Leaky(beta=0.9, init_hidden=True, output=True),
    )
