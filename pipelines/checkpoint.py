"""Checkpoints of a run: every finished sweep point is written to the output folder at once.

Layout (``DIR`` is the run's output folder)::

    DIR/points/manifest.json      format, config fingerprint, number of points, and for each
                                  finished point its file name and SHA-256
    DIR/points/point-00003.npz    the per-point analysis results of sweep point 3, with the
                                  point's index and the config fingerprint inside
    DIR/.sensing-run.lock         held (flock) by the run using the folder

Each file is written to a temporary name in the same folder and renamed into place
(``os.replace`` is atomic on POSIX), so a file that exists is complete. Point files hold
only arrays and JSON (``numpy.savez`` with ``allow_pickle=False`` on reading): no pickled
code is ever loaded. A resumed run accepts the checkpoints only if the fingerprint of its
config matches (see :func:`fingerprint`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 2
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


class WriteError(OSError):
    """A file of the run could not be written; the message names the path and the OS error."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def _ignore_file_size_signal() -> None:
    # Past a file-size limit (RLIMIT_FSIZE) the kernel sends SIGXFSZ, whose default action
    # kills the process; ignored, the write fails with EFBIG and is reported like a full disk.
    import signal
    import threading

    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def temporary_prefix(target: Path) -> str:
    """Prefix of the temporaries :func:`atomic_write` makes for ``target`` (for cleaning up)."""
    return f".{Path(target).name}-"


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries a killed writer of ``target`` left behind (they are never data)."""
    target = Path(target)
    if target.parent.is_dir():
        for stale in target.parent.glob(temporary_prefix(target) + "*"):
            with contextlib.suppress(OSError):
                stale.unlink()


def atomic_write(target: Path, write) -> None:
    """Write ``target`` whole or not at all.

    ``write`` is either the file's content (bytes) or a function called with a temporary
    path in ``target``'s folder. The temporary is fsynced and renamed onto ``target``
    (``os.replace``: atomic on POSIX), and removed whatever happens.

    Raises
    ------
    WriteError
        If the content cannot be written (disk full, file-size limit, permissions): the
        message names ``target`` and the OS error; ``target`` is unchanged and no
        temporary is left.
    """
    target = Path(target)
    _ignore_file_size_signal()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target), dir=target.parent)
        if isinstance(write, (bytes, bytearray, memoryview)):
            with os.fdopen(fd, "wb") as handle:
                handle.write(write)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            os.close(fd)
            write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # the mode any new file gets (mkstemp makes it 0600)
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        raise WriteError(err.errno, f"cannot write {target}: {err.strerror or err}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
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
    """The per-point checkpoints of one run in ``DIR/points``.

    The manifest records the config fingerprint, the number of points and, for every
    finished point, its file name and the SHA-256 of its bytes; each point file also carries
    its own index and the fingerprint. A resumed run accepts a point only if all of these
    agree, so a swapped, edited, truncated or foreign file is named and refused, never used.
    """

    def __init__(self, out: str | Path):
        self.folder = Path(out) / POINTS_DIR
        self._manifest: dict | None = None

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def has_points(self) -> bool:
        """Whether any point was finished (a manifest alone holds no work)."""
        return self.folder.is_dir() and any(self.folder.glob("point-*.npz"))

    def path(self, point: int) -> Path:
        return self.folder / f"point-{point:05d}.npz"

    def _refuse(self, what: str) -> CheckpointMismatch:
        return CheckpointMismatch(
            f"cannot resume: {what}. Delete that file to recompute its sweep point with --resume, "
            "or pass --overwrite to start again")

    def start(self, config, points: int, resume: bool) -> list[int]:
        """Open the store for a run; return the points already done (empty unless ``resume``).

        Raises
        ------
        CheckpointMismatch
            If ``resume`` and the manifest or a point file does not belong to this config
            (the message names the file and what differs).
        FileExistsError
            If checkpoints exist and ``resume`` is false (the caller decides whether to
            discard them with :meth:`discard`).
        """
        mark = fingerprint(config)
        fresh = {"format": FORMAT, "fingerprint": mark["sha256"], "versions": mark["versions"], "points": points, "files": {}}
        if self.exists():
            if not resume:
                raise FileExistsError(
                    f"{self.folder} holds checkpoints of an unfinished run; pass --resume to continue it "
                    "or --overwrite to discard them and start again")
            try:
                old = json.loads(self.manifest_path.read_text())
                if not isinstance(old, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError, UnicodeDecodeError) as err:
                raise CheckpointMismatch(f"cannot resume: the manifest {self.manifest_path} is unreadable ({err}); "
                                         "pass --overwrite to start again") from None
            problems = []
            if old.get("format") != FORMAT:
                problems.append(f"format {old.get('format')!r} (this version writes {FORMAT})")
            if old.get("points") != points:
                problems.append(f"{old.get('points')!r} sweep points (this config has {points})")
            if old.get("fingerprint") != mark["sha256"]:
                changed = "software versions" if old.get("versions") != mark["versions"] else "config"
                problems.append(f"a different {changed} (fingerprint {str(old.get('fingerprint'))[:12]}, now {mark['sha256'][:12]})")
            if problems:
                raise CheckpointMismatch(
                    f"cannot resume: the checkpoints in {self.folder} were written for " + "; ".join(problems)
                    + ". Only name, pipeline.scheduler and pipeline.workers may change between a run and its "
                    "resumption. Use the original config, or --overwrite to start again")
            files = old.get("files")
            if not isinstance(files, dict):
                raise CheckpointMismatch(f"cannot resume: the manifest {self.manifest_path} lists no point files; "
                                         "pass --overwrite to start again")
            done = []
            for key, entry in sorted(files.items(), key=lambda kv: str(kv[0])):
                point = int(key) if str(key).isdigit() else -1
                if not 0 <= point < points or not isinstance(entry, dict):
                    raise self._refuse(f"the manifest {self.manifest_path} lists a point {key!r} this run does not have")
                path = self.path(point)
                if not path.is_file():
                    continue  # listed but gone (deleted by hand): computed again
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if entry.get("sha256") != digest:
                    raise self._refuse(f"{path} is not the file this run wrote for sweep point {point} "
                                       "(its SHA-256 differs from the manifest's: altered, truncated or swapped)")
                try:
                    meta = self._meta(path)
                except Exception as err:  # noqa: BLE001 - any unreadable file is refused by name
                    raise self._refuse(f"{path} is unreadable ({type(err).__name__}: {err})") from None
                if meta.get("point") != point or meta.get("fingerprint") != mark["sha256"]:
                    raise self._refuse(f"{path} holds sweep point {meta.get('point')!r} of run "
                                       f"{str(meta.get('fingerprint'))[:12]}, not point {point} of this run")
                done.append(point)
            self._manifest = {**fresh, "files": {str(p): files[str(p)] for p in done}}
            self._write_manifest()
            return done
        self.folder.mkdir(parents=True, exist_ok=True)
        self._manifest = fresh
        self._write_manifest()
        return []

    def _write_manifest(self) -> None:
        text = json.dumps(self._manifest, indent=1).encode()
        atomic_write(self.manifest_path, text)

    @staticmethod
    def _meta(path: Path) -> dict:
        with np.load(path, allow_pickle=False) as data:
            layout = json.loads(data["__layout__"].tobytes().decode())
        if not isinstance(layout, dict) or "results" not in layout:
            raise ValueError("no checkpoint layout")
        return layout

    def save(self, point: int, results: dict[str, Any]) -> Path:
        """Write one finished point (atomically), then record its hash in the manifest."""
        arrays: dict[str, np.ndarray] = {}
        layout = {"point": int(point), "fingerprint": (self._manifest or {}).get("fingerprint"),
                  "results": _encode(results, arrays)}
        meta = np.frombuffer(json.dumps(layout).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, __layout__=meta, **arrays)
        content = buffer.getvalue()
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(point)
        atomic_write(target, content)
        if self._manifest is not None:
            self._manifest["files"][str(point)] = {"name": target.name, "sha256": hashlib.sha256(content).hexdigest()}
            self._write_manifest()
        return target

    def load(self, point: int) -> dict[str, Any]:
        """Read one point back (no pickle)."""
        path = self.path(point)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            layout = json.loads(arrays.pop("__layout__").tobytes().decode())
            return _decode(layout["results"], arrays)
        except Exception as err:  # noqa: BLE001 - a damaged file is named, never read as data
            raise self._refuse(f"{path} is unreadable ({type(err).__name__}: {err})") from None

    def save_json(self, name: str, data) -> None:
        """Write run-wide information (e.g. a target run's chosen checkpoints) atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / name, json.dumps(data).encode())

    def load_json(self, name: str):
        """What :meth:`save_json` wrote, or ``None``."""
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError, UnicodeDecodeError) as err:
            raise self._refuse(f"{path} is unreadable ({err})") from None

    def discard(self) -> None:
        """Remove the checkpoints (after the results are safely written, or on --overwrite)."""
        shutil.rmtree(self.folder, ignore_errors=True)


LOCK_FILE = ".sensing-run.lock"


class FolderInUse(FileExistsError):
    """Another run holds the output folder."""


class FolderLock:
    """An exclusive lock on a run's output folder (``fcntl.flock``), held for the whole run.

    A second run into the same folder is refused at once instead of mixing its checkpoints
    or results with the first one's. The lock dies with its process, so a killed run never
    leaves the folder locked.
    """

    def __init__(self, out: str | Path):
        self.path = Path(out) / LOCK_FILE
        self._handle = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise FolderInUse(f"{self.path.parent} is in use by another run ({holder}); wait for it to finish "
                              "or choose another --out (nothing was changed)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._handle.close()
            self._handle = None
