"""``sensing export RUN_DIR --fits``: a finished run's camera images and result tables as FITS.

Writes, into ``RUN_DIR/fits/`` (or ``--out``):

* ``images.fits``: for every sweep point and every camera detector, one image HDU of the summed
  counts over the run's largest number of copies, simulated with the exact sufficient-statistic
  sampler from the run's root seed (stream ``(EXPORT_STREAM, point, detector)``), plus one HDU of
  the expected counts. Linear WCS in offset angles from the optical axis (``CTYPEi = 'XOFFSET' /
  'YOFFSET'``, ``CUNITi = 'deg'``, the FITS standard angle unit) when the scene has angle units;
  the scene's abstract unit is recorded in ``POSUNIT`` otherwise. ``BUNIT = 'count'``, ``EXPTIME``
  (s) for scenes in physical units, ``NCOPIES``, the sweep point's coordinates.
* ``results.fits``: one binary table per result variable without the ``repetition`` dim, a column
  per dim coordinate and one for the value, with the variable's CF ``units`` as the column unit
  (``TUNITn``) where astropy can read it (kept as text in ``TCOMMn`` / header otherwise).

Both are read back by ``astropy.io.fits`` / ``astropy.table.Table.read`` (tested).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["ExportError", "export_fits", "EXPORT_STREAM"]

#: Seed stream of the simulated images (beside the sampling, task and analysis streams).
EXPORT_STREAM = 2**31 + 3


class ExportError(ValueError):
    """A run folder that cannot be exported (one line, for the CLI's exit 2)."""


def _dataset(run_dir: Path):
    import xarray as xr

    path = run_dir / "results.nc"
    if not run_dir.is_dir():
        raise ExportError(f"{str(run_dir)!r} is not a run folder (no such directory)")
    if not path.is_file():
        raise ExportError(f"{str(run_dir)!r} holds no results.nc (run `sensing run CONFIG --out {run_dir}` first)")
    try:
        return xr.load_dataset(path)
    except Exception as err:  # noqa: BLE001 - any unreadable file is one message
        raise ExportError(f"{str(path)!r} cannot be read: {' '.join(str(err).split())}") from None


def _table_unit(text: str | None):
    import astropy.units as u

    if not text:
        return None
    try:
        return u.Unit(text.replace("^", ""), format="generic")
    except ValueError:
        return None


def _tables(ds) -> list:
    from astropy.io import fits
    from astropy.table import Table

    hdus = []
    for name, var in ds.data_vars.items():
        if "repetition" in var.dims or var.dtype.kind not in "fiub":
            continue
        frame = var.to_dataframe(name=str(name)).reset_index() if var.dims else None
        table = Table()
        if frame is None:
            table["value"] = np.atleast_1d(var.values)
            column = "value"
        else:
            for col in frame.columns:
                values = frame[col].to_numpy()
                table[str(col)] = values.astype(str) if values.dtype == object else values
            column = str(name)
        unit = _table_unit(var.attrs.get("units"))
        if unit is not None:
            table[column].unit = unit
        for dim in var.dims:
            if dim in ds.coords and "units" in ds[dim].attrs and _table_unit(ds[dim].attrs["units"]) is not None:
                table[str(dim)].unit = _table_unit(ds[dim].attrs["units"])
        hdu = fits.table_to_hdu(table)
        hdu.name = str(name)[:68].upper()
        hdu.header["VARNAME"] = str(name)
        if var.attrs.get("units"):
            hdu.header["CFUNITS"] = (str(var.attrs["units"]), "CF units of the value column")
        if var.attrs.get("long_name"):
            hdu.header["COMMENT"] = str(var.attrs["long_name"])
        hdus.append(hdu)
    return hdus


def _images(ds, seed: int) -> list:
    import astropy.units as u
    from astropy.io import fits

    from sensing.api import plan
    from sensing.contracts.seeds import generator, stream
    from sensing.detectors.counting import Camera
    from sensing.scenes.telescope import angle_unit

    import yaml

    config = yaml.safe_load(ds.attrs["config"])
    _, cfg, dims, built = plan(config)
    copies = int(max(cfg.copies)) if cfg.copies else int(ds["copies"].values[-1])
    hdus = []
    for point, (where, scene, detectors, _, models) in enumerate(built):
        coords = {}
        if dims:
            index = np.unravel_index(point, [len(v) for v in dims.values()])
            coords = {d.split(".")[-1]: v[i] for (d, v), i in zip(dims.items(), index)}
        for d_index, detector in enumerate(detectors):
            if not isinstance(detector, Camera):
                continue
            model = models[d_index]
            rng = generator(stream(seed, EXPORT_STREAM, point, d_index))
            totals = np.asarray(model.sample_statistics(rng, copies)["totals"], dtype=float)
            expected = np.asarray(model.mean(), dtype=float) * copies
            pixels = detector.settings.pixels
            two_d = scene.settings.dimensions == 2
            shape = (pixels, pixels) if two_d else (1, pixels)
            units = scene.settings.units
            angle = angle_unit(units)
            pitch = detector.settings.pixel_pitch
            for kind, values in (("COUNTS", totals), ("EXPECTED", expected)):
                image = values.reshape(shape).T if two_d else values.reshape(shape)  # pixel (i, j): x = i, y = j
                hdu = fits.ImageHDU(image.astype(np.float64 if kind == "EXPECTED" else np.int64))
                h = hdu.header
                hdu.name = f"{detector.settings.name}_{kind}_{point}"[:68].upper()
                h["BUNIT"] = "count"
                h["DETECTOR"] = detector.settings.name
                h["IMAGETYP"] = ("simulated summed counts" if kind == "COUNTS" else "expected counts", "")
                h["NCOPIES"] = (copies, "copies (temporal modes) summed")
                h["POINT"] = (point, "sweep point index")
                for key, value in coords.items():
                    h[f"HIERARCH SWEEP {key}"] = value
                rate = scene.copies_per_second() if hasattr(scene, "copies_per_second") else None
                if rate:
                    h["EXPTIME"] = (copies / rate, "[s] observing time of the summed copies")
                h["POSUNIT"] = (units, "unit of the scene's positions")
                axes = ("XOFFSET", "YOFFSET") if two_d else ("XOFFSET", "LINEAR")
                for n, (ctype, size) in enumerate(zip(axes, image.shape[::-1]), start=1):
                    h[f"CTYPE{n}"] = ctype
                    h[f"CRPIX{n}"] = (size + 1) / 2
                    h[f"CRVAL{n}"] = 0.0
                    if angle is not None and (n == 1 or two_d):
                        h[f"CDELT{n}"] = float((pitch * angle).to_value(u.deg))
                        h[f"CUNIT{n}"] = "deg"
                    else:
                        h[f"CDELT{n}"] = pitch if (n == 1 or two_d) else 1.0
                hdus.append(hdu)
    return hdus


def export_fits(run_dir: str | Path, out: str | Path | None = None, overwrite: bool = False) -> list[Path]:
    """Write ``images.fits`` and ``results.fits`` of the run in ``run_dir``; return the paths.

    Raises
    ------
    ExportError
        ``run_dir`` is not a finished run folder.
    FileExistsError
        The output files exist and ``overwrite`` is false.
    """
    from astropy.io import fits

    run_dir = Path(run_dir)
    ds = _dataset(run_dir)
    if "config" not in ds.attrs:
        raise ExportError(f"{str(run_dir / 'results.nc')!r} has no config attribute (not written by `sensing run`)")
    folder = Path(out) if out is not None else run_dir / "fits"
    targets = [folder / "images.fits", folder / "results.fits"]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(existing)} exist; pass --overwrite to replace them (nothing was changed)")
    seed = int(ds.attrs.get("seed", 0))
    images = _images(ds, seed)
    tables = _tables(ds)
    folder.mkdir(parents=True, exist_ok=True)
    primary = fits.PrimaryHDU()
    primary.header["ORIGIN"] = "sensing export"
    primary.header["RUNNAME"] = str(ds.attrs.get("title", ""))[:60]
    primary.header["SEED"] = seed
    for key in ("units", "psf"):
        if key in ds.attrs:
            primary.header[f"HIERARCH {key.upper()}"] = str(ds.attrs[key])[:60]
    fits.HDUList([primary.copy(), *images]).writeto(targets[0], overwrite=True)
    results_primary = primary.copy()
    results_primary.header["HIERARCH VERSIONS"] = json.dumps(json.loads(ds.attrs.get("versions", "{}")))[:60]
    fits.HDUList([results_primary, *tables]).writeto(targets[1], overwrite=True)
    return targets
