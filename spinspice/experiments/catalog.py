"""The registered device models, their presets and every parameter (``spinspice models``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from spinspice.circuits.registry import catalog, get_model
from spinspice.experiments.results import StudyResult
from spinspice.io import atomic_write_json

__all__ = ["ModelsResult", "list_models"]


def _param_line(p: dict[str, Any]) -> str:
    d = p["default"]
    text = f"{d:.6g}" if isinstance(d, float) else str(d)
    return f"    {p['name']:<22} {text:>12} {p['unit']:<10} {p['range']:<18} {p['source']}"


@dataclasses.dataclass(repr=False, eq=False)
class ModelsResult(StudyResult):
    """The model catalogue (:func:`spinspice.circuits.registry.catalog`), or one model of it."""

    models: list[dict[str, Any]]

    def report(self) -> dict[str, Any]:
        return {"models": self.models}

    def summary(self) -> str:
        lines = []
        for m in self.models:
            kind = "spiking neuron" if m["spiking"] else "non-spiking"
            lines.append(f"{m['name']:<18} {m['title']} [{m['source']}; {kind}]")
            if m["presets"]:
                lines.append(f"  presets: {', '.join(m['presets'])} (defaults below are {m['presets'][0]}'s)")
            lines.append("  device parameters:")
            lines += [_param_line(p) for p in m["parameters"]]
            if m["circuit_parameters"]:
                lines.append("  circuit parameters:")
                lines += [_param_line(p) for p in m["circuit_parameters"]]
        return "\n".join(lines)

    def _write_files(self, folder: Path) -> None:
        atomic_write_json(folder / "models.json", self.report())


def list_models(name: str | None = None, *, out: str | Path | None = None) -> ModelsResult:
    """Every device model (or only ``name``) with its presets and parameters (name, unit,
    default, range, source); ``out``: also write ``models.json`` there."""
    listing = catalog()
    if name is not None:
        get_model(name)
        listing = [m for m in listing if m["name"] == name]
    return ModelsResult(listing)._publish(out)
