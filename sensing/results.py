"""Results of a run on disk: provenance attributes and atomic writing of ``results.nc``."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from sensing.pipelines.checkpoint import WriteError, atomic_write, remove_stale_temporaries

RESULTS_FILE = "results.nc"

VERSIONED = ["quantum-sensing-pipelines", "numpy", "scipy", "xarray", "dask", "distributed", "strawberryfields", "thewalrus", "pydantic"]


def versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(config, raw: dict) -> dict:
    """Attributes every results dataset carries: config, seed, versions, creation time."""
    return {
        "title": f"quantum sensing run {config.name!r}",
        "config": yaml.safe_dump(raw, sort_keys=False),
        "seed": int(config.seed),
        "versions": json.dumps(versions()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "conventions": "hbar = 2, xxpp ordering; information per copy (one temporal mode or one channel use)",
    }


class AssemblyError(ValueError):
    """Per-point datasets that cannot be put on one grid (an analysis broke its contract)."""


def assemble(points: list[xr.Dataset], dims: dict[str, list]) -> xr.Dataset:
    """The run's dataset: per-point datasets (sweep order) stacked along the sweep dims.

    Every variable gets the sweep dims first, in config order, then its own; coordinates and
    attributes come from the first point; ``attrs["sweep_dims"]`` records the sweep dims
    (:func:`sensing.contracts.analysis.sweep_dims`). The sweep dims' names were chosen at
    validation so that they never collide with a result variable or dim.

    Raises
    ------
    AssemblyError
        If points disagree in their variables, dims or shapes, or a sweep dim collides.
    """
    first = points[0]
    shape = tuple(len(v) for v in dims.values())
    if int(np.prod(shape, dtype=int)) != len(points):
        raise AssemblyError(f"{len(points)} point datasets for a sweep of shape {shape}")
    clash = set(dims) & (set(first.variables) | set(first.dims))
    if clash:
        raise AssemblyError(f"sweep dims {sorted(clash)} collide with result names")
    out = xr.Dataset(coords={**{d: (d, list(v)) for d, v in dims.items()}})
    for name, var in first.coords.items():
        out = out.assign_coords({name: var})
    for name, var in first.data_vars.items():
        parts = []
        for index, point in enumerate(points):
            if name not in point or point[name].dims != var.dims or point[name].shape != var.shape:
                raise AssemblyError(f"sweep point {index}: variable {name!r} has dims/shape "
                                    f"{getattr(point.get(name), 'sizes', None)}, the first point {dict(var.sizes)}")
            parts.append(point[name].values)
        out[name] = (tuple(dims) + var.dims, np.stack(parts).reshape(shape + var.shape), dict(var.attrs))
    out.attrs.update(first.attrs)
    out.attrs["sweep_dims"] = json.dumps(list(dims))
    return out


def check_writable(out: Path, overwrite: bool) -> None:
    """Refuse, before any work is done, to replace an existing results file."""
    target = Path(out) / RESULTS_FILE
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it (nothing was changed)")


def encode(ds: xr.Dataset) -> bytes:
    """``results.nc`` as bytes (NetCDF4/HDF5 through h5netcdf), built in memory.

    Serialising before any file is touched means a dataset that cannot be written fails
    here, and HDF5 never writes to disk itself: the bytes go through :func:`atomic_write`,
    whose failures (disk full, file-size limit) are plain ``OSError`` s.
    """
    with _no_distributed_lookup():
        return bytes(ds.to_netcdf(engine="h5netcdf"))


@contextlib.contextmanager
def _no_distributed_lookup():
    """xarray's ``to_netcdf`` imports ``distributed`` (half a second) to ask whether a cluster
    client is active. In a process that never imported it there is none: the import is made to
    fail (which xarray and dask treat as "no cluster") for the duration of the call."""
    if "distributed" in sys.modules:
        yield
        return
    names = ("distributed", "dask.distributed")
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]  (an import of it raises ImportError)
    try:
        yield
    finally:
        for name in names:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def write(ds: xr.Dataset | bytes, out: Path, overwrite: bool = False) -> Path:
    """Write ``results.nc`` atomically (temporary file in the same folder, then rename).

    Raises
    ------
    FileExistsError
        If ``results.nc`` exists and ``overwrite`` is false.
    sensing.pipelines.checkpoint.WriteError
        If the file cannot be written (the message names the path and the OS error); the
        previous ``results.nc``, if any, is unchanged and no temporary is left.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(err.errno, f"cannot create {out}: {err.strerror or err}") from None
    check_writable(out, overwrite)
    target = out / RESULTS_FILE
    content = ds if isinstance(ds, (bytes, bytearray, memoryview)) else encode(ds)
    remove_stale_temporaries(target)
    atomic_write(target, content)
    return target
