"""Spiking networks whose neurons are the device models (SPEC 4): train, evaluate, import.

The public calls, each returning a :class:`spinspice.io.Result` (``.report()``,
``.summary()``, ``.write(folder)``):

* :func:`train_network` -- train a network of device neurons (and its ideal-LIF baseline)
  on a bundled or IDX data set; writes the checkpoint, metrics and plots;
* :func:`evaluate_network` -- test accuracy and confusion matrix of a checkpoint;
* :func:`import_snntorch` -- a plain snnTorch network into the checkpoint format,
  optionally with its neurons swapped for a device model and fine-tuned.

The pieces they are built from: :mod:`~spinspice.snn.neurons` (device neurons as torch
modules), :mod:`~spinspice.snn.arch` (network configs), :mod:`~spinspice.snn.data`,
:mod:`~spinspice.snn.train` (the training loop), :mod:`~spinspice.snn.checkpoint`
(safe checkpoints, :func:`~spinspice.snn.checkpoint.load_with_data`) and
:mod:`~spinspice.snn.interop` (snnTorch).  Importing this package does not import torch.
"""

from __future__ import annotations

from spinspice.snn.api import (
    EvaluateResult,
    ExportResult,
    ImportResult,
    TrainResult,
    evaluate_network,
    export_nir,
    import_nir,
    import_snntorch,
    train_network,
)

__all__ = [
    "EvaluateResult",
    "ExportResult",
    "ImportResult",
    "TrainResult",
    "evaluate_network",
    "export_nir",
    "import_nir",
    "import_snntorch",
    "train_network",
]
