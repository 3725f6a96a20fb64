"""Spike agreement between a circuit and the network it implements (SPEC 4).

Spikes are compared per neuron as *time steps* (network slots).  Two spike
trains are matched one to one in time order: a circuit spike and a torch
spike pair up when they lie within ``tol`` steps of each other (greedy from
the earliest, which is optimal for one-dimensional interval matching).

- ``spike_agreement`` = matched pairs / sum over neurons of max(circuit
  count, torch count): 1 only when every spike on either side has a partner,
  so both missing and extra circuit spikes lower it (1 when neither side
  spikes at all);
- ``count_error``: mean over neurons of |circuit count - torch count|, and
  the signed total;
- ``first_spike_error_steps``: mean |first circuit spike - first torch spike|
  over neurons where both spike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["layer_agreement", "match_steps", "matched_flags", "matched_pairs", "merge_agreements"]


def matched_pairs(a: Sequence[int], b: Sequence[int], tol: int = 1) -> list[tuple[int, int]]:
    """The one-to-one pairs between step lists ``a`` and ``b`` within ``tol`` steps, as indices
    into ``sorted(a)`` and ``sorted(b)`` (greedy in time order)."""
    a, b = sorted(int(x) for x in a), sorted(int(x) for x in b)
    i = j = 0
    pairs = []
    while i < len(a) and j < len(b):
        if abs(a[i] - b[j]) <= tol:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return pairs


def matched_flags(a: Sequence[int], b: Sequence[int], tol: int = 1) -> tuple[list[bool], list[bool]]:
    """Which steps of ``a`` and of ``b`` (in their given order) have a partner in the other
    list under :func:`matched_pairs`: the spikes a raster draws as agreeing."""
    ia, ib = sorted(range(len(a)), key=lambda k: a[k]), sorted(range(len(b)), key=lambda k: b[k])
    fa, fb = [False] * len(a), [False] * len(b)
    for i, j in matched_pairs(a, b, tol):
        fa[ia[i]] = fb[ib[j]] = True
    return fa, fb


def match_steps(a: Sequence[int], b: Sequence[int], tol: int = 1) -> int:
    """Number of one-to-one pairs between step lists ``a`` and ``b`` within ``tol`` steps."""
    return len(matched_pairs(a, b, tol))


def layer_agreement(
    circuit: Sequence[Sequence[int]], reference: Sequence[Sequence[int]], tol: int = 1
) -> dict[str, Any]:
    """Agreement of one layer: per-neuron spike steps of the circuit vs the reference."""
    if len(circuit) != len(reference):
        raise ValueError(f"{len(circuit)} circuit neurons vs {len(reference)} reference neurons")
    matched = exact = worst = 0
    n_c = n_r = 0
    count_abs: list[int] = []
    first_err: list[int] = []
    for c, r in zip(circuit, reference, strict=True):
        m = match_steps(c, r, tol)
        matched += m
        exact += match_steps(c, r, 0)
        worst += max(len(c), len(r))
        n_c, n_r = n_c + len(c), n_r + len(r)
        count_abs.append(abs(len(c) - len(r)))
        if len(c) and len(r):
            first_err.append(abs(min(c) - min(r)))
    return {
        "n_neurons": len(circuit),
        "matched": matched,
        "matched_exact": exact,
        "compared": worst,
        "spike_agreement": matched / worst if worst else 1.0,
        "exact_agreement": exact / worst if worst else 1.0,
        "circuit_spikes": n_c,
        "reference_spikes": n_r,
        "count_error_total": n_c - n_r,
        "count_error_mean_abs": float(np.mean(count_abs)) if count_abs else 0.0,
        "neurons_count_differs": int(sum(1 for x in count_abs if x)),
        "first_spike_error_steps": float(np.mean(first_err)) if first_err else 0.0,
        "first_spike_compared": len(first_err),
    }


def merge_agreements(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool :func:`layer_agreement` results (over samples, or over layers)."""
    tot = {k: sum(p[k] for p in parts) for k in ("matched", "matched_exact", "compared")}
    n_c = sum(p["circuit_spikes"] for p in parts)
    n_r = sum(p["reference_spikes"] for p in parts)
    neurons = sum(p["n_neurons"] for p in parts)
    n_first = sum(p["first_spike_compared"] for p in parts)
    return {
        "n_neurons": neurons,
        **tot,
        "spike_agreement": tot["matched"] / tot["compared"] if tot["compared"] else 1.0,
        "exact_agreement": tot["matched_exact"] / tot["compared"] if tot["compared"] else 1.0,
        "circuit_spikes": n_c,
        "reference_spikes": n_r,
        "count_error_total": n_c - n_r,
        "count_error_mean_abs": (
            sum(p["count_error_mean_abs"] * p["n_neurons"] for p in parts) / neurons if neurons else 0.0
        ),
        "neurons_count_differs": sum(p["neurons_count_differs"] for p in parts),
        "first_spike_error_steps": (
            sum(p["first_spike_error_steps"] * p["first_spike_compared"] for p in parts) / n_first
            if n_first
            else 0.0
        ),
        "first_spike_compared": n_first,
    }
