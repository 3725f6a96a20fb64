"""A long run under repeated faults (issue 19 item 2), in full: a co-simulation of 40 images and
a sweep on 2 workers while ngspice processes and pool workers are SIGKILLed at random (seeded)
moments, then ``--resume`` until done; each report against an undisturbed run's.

    .venv/bin/python bench/chaos_run.py [IMAGES] [KILLS] [FOLDER]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from chaos import cli, figures, run_under_chaos

from spinspice.snn import train_network


def _calm(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = cli(args)
    _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(err)
    return time.perf_counter() - t0


def _one(name: str, args: list[str], report: str, folder: Path, kills: int, seed: int) -> dict:
    wall = _calm([*args, "--out", str(folder / f"{name}-calm")])
    # kills spread over the run: on average one every wall / (1.5 kills) seconds
    t0 = time.perf_counter()
    chaos = run_under_chaos(
        [*args, "--out", str(folder / f"{name}-chaos")],
        kills=kills,
        seed=seed,
        interval_s=wall / (1.5 * kills),
    )
    calm = json.loads((folder / f"{name}-calm" / report).read_text())
    hit = json.loads((folder / f"{name}-chaos" / report).read_text())
    by_kind: dict[str, int] = {}
    for k in chaos["kills"]:
        by_kind[k["kind"]] = by_kind.get(k["kind"], 0) + 1
    failed = [a for a in chaos["attempts"] if a["exit"] != 0]
    out = {
        "run": name,
        "undisturbed_s": round(wall, 1),
        "under_chaos_s": round(time.perf_counter() - t0, 1),
        "kills": len(chaos["kills"]),
        "kills_by_kind": by_kind,
        "attempts": len(chaos["attempts"]),
        "resumes": len(chaos["attempts"]) - 1,
        "attempt_errors": [a["error"] for a in failed],
        "retried_runs": len(hit.get("runtime", {}).get("retried_runs", [])) if "runtime" in hit else None,
        "identical": figures(hit) == figures(calm),
    }
    if name == "cosim":
        out.update(
            images=hit["n_samples"],
            lost_results=hit["n_requested"] - hit["n_samples"] + len(hit["failed_samples"]),
            spike_agreement=hit["spike_agreement"],
            circuit_spikes_per_inference=hit["circuit_spikes_per_inference"],
            torch_accuracy=hit["torch_accuracy"],
        )
    else:
        out.update(
            points=len(hit["points"]),
            lost_results=len(hit["failed_points"]) + sum(p["status"] != "done" for p in hit["points"]),
            resumed_points=hit["resumed_points"],
        )
    return out


def main(images: int = 40, kills: int = 12, folder: str | None = None) -> None:
    root = Path(folder or tempfile.mkdtemp(prefix="spinspice-chaos-"))
    ck = root / "net" / "model.pt"
    if not ck.exists():
        train_network(
            dataset="digits", arch="fc:64-32-10", neuron="dw-lif", epochs=2, steps=12, baseline=False, out=ck
        )
    base = ["--workers", "2"]
    runs = [
        _one(
            "cosim",
            ["cosim", str(ck), "--samples", str(images), "--trace", "none", *base],
            "report.json",
            root,
            kills,
            seed=1,
        ),
        _one(
            "sweep",
            [
                "sweep",
                str(ck),
                "--set",
                "variability=0,0.05,0.1",
                "--samples",
                str(max(4, images // 4)),
                *base,
            ],
            "results.json",
            root,
            kills,
            seed=2,
        ),
    ]
    print(json.dumps(runs, indent=1))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(int(a[0]) if a else 40, int(a[1]) if len(a) > 1 else 12, a[2] if len(a) > 2 else None)
