"""What the public studies share: their result base class and progress display.

Every public study (:mod:`spinspice.experiments`) returns a subclass of
:class:`StudyResult`, itself a :class:`spinspice.io.Result`: ``.report()`` is
the JSON report, ``.summary()`` the lines ``spinspice`` prints, and
``.write(folder)`` writes the study's files into ``folder`` atomically.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Self

from spinspice.io import Result, displayed, staged_output

__all__ = ["StudyResult", "displayed"]


@dataclasses.dataclass(repr=False, eq=False)
class StudyResult(Result):
    """A :class:`~spinspice.io.Result` whose files :meth:`write` stages and publishes atomically.

    ``out`` is the folder the study call wrote to (``out=`` given), else None.
    """

    out: Path | None = dataclasses.field(default=None, kw_only=True)

    def write(self, folder: str | Path) -> Path:
        """Write the study's files into ``folder`` (all of them or, on error, none); return it."""
        folder = Path(folder)
        with staged_output(folder) as stage:
            self._write_files(stage)
        return folder

    def _write_files(self, folder: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}._write_files")

    def _publish(self, out: str | Path | None) -> Self:
        """Write into ``out`` when it is given and record it in :attr:`out`; return self."""
        if out is not None:
            self.out = self.write(out)
        return self

    def _report_line(self, name: str, prefix: str = "report: ") -> list[str]:
        """``["report: <out>/<name>"]`` once the result is written, else no line."""
        return [] if self.out is None else [f"{prefix}{self.out / name}"]
