"""A chaos driver for long runs (issue 19 item 2): kills ngspice processes and pool workers of
a running spinspice command at random (seeded) moments, then the command is resumed until it
completes.  Used by tests/test_chaos.py (reduced) and bench/chaos_run.py (in full)."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: keys of a report that say how the run went, not what it found (timings, run counts)
RUN_KEYS = {
    "wall_s",
    "runtime",
    "layer_wall_s",
    "retried_runs",
    "workers",
    "time_points",
    "n_runs",
    "resumed_points",
}


def figures(report: Any) -> Any:
    """``report`` without :data:`RUN_KEYS`, at any depth: what two runs must agree on."""
    if isinstance(report, dict):
        return {k: figures(v) for k, v in report.items() if k not in RUN_KEYS}
    if isinstance(report, list):
        return [figures(v) for v in report]
    return report


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def victims(root: int) -> dict[str, list[int]]:
    """The ngspice processes and the pool workers (root's Python children) under ``root``."""
    kids = _children()
    out: dict[str, list[int]] = {"ngspice": [], "worker": []}
    stack = [(root, 0)]
    while stack:
        pid, depth = stack.pop()
        for child in kids.get(pid, []):
            name = _comm(child)
            if name.startswith("ngspice"):
                out["ngspice"].append(child)
            elif depth == 0 and name.startswith("python"):
                try:
                    cmd = Path(f"/proc/{child}/cmdline").read_bytes()
                except OSError:
                    cmd = b""
                if b"spawn_main" in cmd:  # a process pool worker, not the resource tracker
                    out["worker"].append(child)
            stack.append((child, depth + 1))
    return out


@dataclasses.dataclass(eq=False)
class Monkey(threading.Thread):
    """Kills, while ``root`` runs, up to ``kills`` processes at random moments (exponential
    intervals of mean ``interval_s``): an ngspice run or a pool worker, chosen with ``rng``."""

    root: int
    kills: int
    rng: random.Random
    interval_s: float = 1.0
    log: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)
        self._halt = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while len(self.log) < self.kills and not self._halt.wait(self.rng.expovariate(1 / self.interval_s)):
            found = victims(self.root)
            kinds = [k for k in ("ngspice", "worker") if found[k]]
            if not kinds:
                continue
            kind = self.rng.choice(kinds)
            pid = self.rng.choice(sorted(found[kind]))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.log.append({"t_s": round(time.monotonic() - t0, 3), "kind": kind, "pid": pid})

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def cli(args: list[str], cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from spinspice.cli import entry; entry()", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run_under_chaos(
    args: list[str], *, kills: int, seed: int, interval_s: float, max_attempts: int = 30
) -> dict[str, Any]:
    """Run the CLI ``args`` (a command with ``--out``) while a :class:`Monkey` kills up to
    ``kills`` processes, then ``--resume`` it (more kills while kills remain) until it exits 0.
    Returns the kills, the attempts and their exit codes and error lines."""
    rng = random.Random(seed)
    attempts: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    for attempt in range(max_attempts):
        proc = cli(args + (["--resume"] if attempt else []))
        monkey = Monkey(proc.pid, kills - len(log), rng, interval_s)
        monkey.start()
        _, err = proc.communicate(timeout=1800)
        monkey.stop()
        log += [{**k, "attempt": attempt} for k in monkey.log]
        last = err.strip().splitlines()[-1:]
        attempts.append({"exit": proc.returncode, "error": last})
        if proc.returncode == 0:  # complete (a resumed run only runs what was missing)
            break
    return {"kills": log, "attempts": attempts}
