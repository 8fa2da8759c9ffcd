"""Artifacts of a run on disk: NetCDF files of groups of arrays, with checksums (``snapshots.nc``).

An analysis may hand the framework extra data to keep beside ``results.nc``
(:meth:`sensing.contracts.analysis.Analysis.artifacts`), e.g. the classical-shadow snapshots
from which ``sensing predict`` answers new questions later. Each artifact is
``{group path: {"arrays": {name: ndarray}, "attrs": {...}, "dims": {name: [dim, ...]}}}`` and is
written here as one NetCDF-4 (HDF5) file:

* one NetCDF group per entry (e.g. ``/point0/pauli``), one variable per array, its dims from
  ``dims`` (default ``<name>_<axis>``), chunked along the first dim (:data:`CHUNK_ROWS` rows) and
  compressed (zlib level 4, shuffle, Fletcher-32 checksums of every HDF5 chunk);
* the group's attributes: ``payload_attrs`` (the entry's attributes as JSON, lossless) and
  ``sha256``, the SHA-256 of ``payload_attrs`` and, per array in name order, its name, dtype,
  shape and bytes;
* root attributes ``artifact_format`` and ``groups`` (JSON list of the group paths).

The file is written to a temporary name and renamed (never half-written under its own name).
:func:`read_groups` recomputes every checksum: a truncated or corrupted file raises
:class:`SnapshotStoreError` with the reason, and is never returned as data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from sensing.pipelines.checkpoint import atomic_write

ARTIFACT_FORMAT = "sensing-artifact/1"
#: Rows per HDF5 chunk along a variable's first dim.
CHUNK_ROWS = 65_536


class SnapshotStoreError(ValueError):
    """A snapshot (artifact) store that is missing, truncated, corrupted or of another format."""


def _digest(arrays: dict[str, np.ndarray], attrs_json: str) -> str:
    h = hashlib.sha256(attrs_json.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _group_dataset(entry: dict) -> tuple[xr.Dataset, dict]:
    arrays = {k: np.asarray(v) for k, v in entry["arrays"].items()}
    attrs_json = json.dumps(entry.get("attrs", {}), sort_keys=True)
    dims = entry.get("dims", {})
    ds = xr.Dataset()
    encoding = {}
    for name, a in arrays.items():
        names = tuple(dims.get(name, [f"{name}_{i}" for i in range(a.ndim)]))
        ds[name] = (names, a)
        if a.ndim and a.size:
            encoding[name] = {"zlib": True, "complevel": 4, "shuffle": True, "fletcher32": True,
                              "chunksizes": (min(a.shape[0], CHUNK_ROWS),) + a.shape[1:]}
    ds.attrs["payload_attrs"] = attrs_json
    ds.attrs["sha256"] = _digest(arrays, attrs_json)
    return ds, encoding


def write_groups(path: str | Path, groups: dict[str, dict], overwrite: bool = False) -> Path:
    """Write one artifact file atomically (see the module docstring).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false (nothing is changed).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it (nothing was changed)")
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp):
        root = xr.Dataset(attrs={"artifact_format": ARTIFACT_FORMAT, "groups": json.dumps(list(groups))})
        root.to_netcdf(tmp, mode="w", engine="h5netcdf")
        for name, entry in groups.items():
            ds, encoding = _group_dataset(entry)
            ds.to_netcdf(tmp, mode="a", group=name, engine="h5netcdf", encoding=encoding)

    atomic_write(path, write)
    return path


def write_artifacts(out: str | Path, artifacts: dict[str, dict], overwrite: bool = False) -> list[Path]:
    """Write every artifact file of a run into the folder ``out``; refuses existing files unless ``overwrite``."""
    out = Path(out)
    for name in artifacts:
        if (out / name).exists() and not overwrite:
            raise FileExistsError(f"{out / name} exists; pass --overwrite to replace it (nothing was changed)")
    return [write_groups(out / name, groups, overwrite=overwrite) for name, groups in artifacts.items()]


def read_groups(path: str | Path) -> dict[str, dict]:
    """Every group of an artifact file as ``{"arrays", "attrs"}``, checksums verified.

    Raises
    ------
    SnapshotStoreError
        Missing, truncated or corrupted file, a missing group, or a checksum mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise SnapshotStoreError(f"{path}: no snapshot store (was the run made with an analysis that keeps snapshots?)")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as root:
            if root.attrs.get("artifact_format") != ARTIFACT_FORMAT:
                raise SnapshotStoreError(f"{path}: artifact format {root.attrs.get('artifact_format')!r}, expected {ARTIFACT_FORMAT!r}")
            names = json.loads(root.attrs["groups"])
        out = {}
        for name in names:
            with xr.open_dataset(path, group=name, engine="h5netcdf", mask_and_scale=False, decode_times=False) as ds:
                arrays = {k: np.asarray(ds[k].values) for k in ds.data_vars}
                attrs_json, expected = ds.attrs["payload_attrs"], ds.attrs["sha256"]
            if _digest(arrays, attrs_json) != expected:
                raise SnapshotStoreError(f"{path}: group {name!r} fails its SHA-256 checksum: the snapshots are corrupted "
                                         "(not read as data)")
            out[name] = {"arrays": arrays, "attrs": json.loads(attrs_json)}
        return out
    except SnapshotStoreError:
        raise
    except Exception as err:  # h5py/netCDF errors of a truncated or damaged file, missing groups or attributes
        raise SnapshotStoreError(f"{path}: cannot be read as a snapshot store, the file is truncated or corrupted "
                                 f"({type(err).__name__}: {' '.join(str(err).split())[:300]})") from None
