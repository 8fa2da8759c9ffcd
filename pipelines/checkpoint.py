"""Checkpoints of a run: every finished sweep point is written to the output folder at once.

Layout (``DIR`` is the run's output folder)::

    DIR/points/manifest.json      config fingerprint, number of points, format version
    DIR/points/point-00003.npz    the per-point analysis results of sweep point 3

Each file is written to a temporary name in the same folder and renamed into place
(``os.replace`` is atomic on POSIX), so a file that exists is complete. Point files hold
only arrays and JSON (``numpy.savez`` with ``allow_pickle=False`` on reading): no pickled
code is ever loaded. A resumed run accepts the checkpoints only if the fingerprint of its
config matches (see :func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
POINTS_DIR = "points"
MANIFEST = "manifest.json"

#: Config fields that cannot change any number of a run (where and how it is shown).
COSMETIC = {"name": True, "pipeline": {"scheduler": True, "workers": True}}


class CheckpointMismatch(ValueError):
    """Checkpoints in the output folder belong to a different config or software version."""


def fingerprint(config) -> dict[str, Any]:
    """What the numbers of a run depend on: the validated config without its cosmetic fields,
    and the versions of this package and numpy (random streams).

    ``name``, ``pipeline.scheduler`` and ``pipeline.workers`` are left out: results do not
    depend on them. Everything else (seed, copies, repetitions, batch size, task grouping,
    sweep, source, detectors, analysis, target) is included, normalised by validation (so
    ``1e6`` and ``1000000`` are the same).
    """
    dumped = config.model_dump(mode="json", exclude=COSMETIC)
    versions = {}
    for name in ("quantum-sensing-pipelines", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
            versions[name] = "unknown"
    text = json.dumps({"config": dumped, "versions": versions}, sort_keys=True)
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "versions": versions}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write) -> None:
    """Call ``write(temporary path)`` for a file in ``target``'s folder, then rename it to ``target``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # the mode any new file gets (mkstemp makes it 0600)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# -- results <-> arrays + JSON --------------------------------------------------------------
def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        name = f"a{len(arrays)}"
        arrays[name] = np.asarray(value)
        return {"__array__": name}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("checkpointed results may only have string keys")
        return {"__dict__": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"__list__": [_encode(v, arrays) for v in value]}
    if isinstance(value, float):
        name = f"a{len(arrays)}"  # exact, including nan and inf
        arrays[name] = np.asarray(value, dtype=float)
        return {"__float__": name}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"cannot checkpoint a {type(value).__name__}; analyses return arrays, numbers, strings, lists and dicts")


def _decode(value: Any, arrays) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            out = arrays[value["__array__"]]
            return out[()] if out.ndim == 0 else out
        if "__float__" in value:
            return float(arrays[value["__float__"]])
        if "__dict__" in value:
            return {k: _decode(v, arrays) for k, v in value["__dict__"].items()}
        if "__list__" in value:
            return [_decode(v, arrays) for v in value["__list__"]]
    return value


class PointStore:
    """The per-point checkpoints of one run in ``DIR/points``."""

    def __init__(self, out: str | Path):
        self.folder = Path(out) / POINTS_DIR

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def path(self, point: int) -> Path:
        return self.folder / f"point-{point:05d}.npz"

    def start(self, config, points: int, resume: bool) -> list[int]:
        """Open the store for a run; return the points already done (empty unless ``resume``).

        Raises
        ------
        CheckpointMismatch
            If ``resume`` and the checkpoints were written for another config or version.
        FileExistsError
            If checkpoints exist and ``resume`` is false (the caller decides whether to
            discard them with :meth:`discard`).
        """
        mark = fingerprint(config)
        manifest = {"format": FORMAT, "fingerprint": mark["sha256"], "versions": mark["versions"], "points": points}
        if self.exists():
            if not resume:
                raise FileExistsError(
                    f"{self.folder} holds checkpoints of an unfinished run; pass --resume to continue it "
                    "or --overwrite to discard them and start again")
            old = json.loads(self.manifest_path.read_text())
            if old.get("format") != FORMAT or old.get("fingerprint") != mark["sha256"] or old.get("points") != points:
                changed = "software versions" if old.get("versions") != mark["versions"] and old.get("points") == points else "config"
                raise CheckpointMismatch(
                    f"cannot resume: the checkpoints in {self.folder} were written for a different {changed} "
                    f"(fingerprint {str(old.get('fingerprint'))[:12]}, now {mark['sha256'][:12]}); only name, "
                    "pipeline.scheduler and pipeline.workers may change between a run and its resumption. "
                    "Use the original config, or --overwrite to start again")
            return sorted(p for p in range(points) if self.path(p).is_file())
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.manifest_path, lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=1)))
        return []

    def save(self, point: int, results: dict[str, Any]) -> Path:
        """Write one finished point (atomically)."""
        arrays: dict[str, np.ndarray] = {}
        layout = _encode(results, arrays)
        meta = np.frombuffer(json.dumps(layout).encode(), dtype=np.uint8)

        def write(tmp):
            with open(tmp, "wb") as handle:
                np.savez(handle, __layout__=meta, **arrays)
                handle.flush()
                os.fsync(handle.fileno())

        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(point)
        atomic_write(target, write)
        return target

    def load(self, point: int) -> dict[str, Any]:
        """Read one point back (no pickle)."""
        with np.load(self.path(point), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        layout = json.loads(arrays.pop("__layout__").tobytes().decode())
        return _decode(layout, arrays)

    def save_json(self, name: str, data) -> None:
        """Write run-wide information (e.g. a target run's chosen checkpoints) atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data)
        atomic_write(self.folder / name, lambda tmp: Path(tmp).write_text(text))

    def load_json(self, name: str):
        """What :meth:`save_json` wrote, or ``None``."""
        path = self.folder / name
        return json.loads(path.read_text()) if path.is_file() else None

    def discard(self) -> None:
        """Remove the checkpoints (after the results are safely written, or on --overwrite)."""
        shutil.rmtree(self.folder, ignore_errors=True)
