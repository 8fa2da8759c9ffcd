"""Results of a run on disk: provenance attributes and atomic writing of ``results.nc``."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import xarray as xr
import yaml

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


def check_writable(out: Path, overwrite: bool) -> None:
    """Refuse, before any work is done, to replace an existing results file."""
    target = Path(out) / RESULTS_FILE
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it (nothing was changed)")


def write(ds: xr.Dataset, out: Path, overwrite: bool = False) -> Path:
    """Write ``results.nc`` atomically (temporary file in the same folder, then rename)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_writable(out, overwrite)
    target = out / RESULTS_FILE
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".nc", dir=out)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
