"""Sweeps whose field names meet result names: renamed at validation, never lost after the compute.

The sweep over ``detectors.camera.efficiency`` once collided with the result variable
``efficiency``: the swept values appeared nowhere, the plots crashed and results were lost;
sweeping ``source.modes`` of the displacement study collided with the dim ``modes``.
"""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sensing.cli import main
from sensing.study.config import ConfigError, expand_sweep, load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL = ["--set", "copies=[1000, 20000]", "--set", "repetitions=3", "--set", "detectors.camera.pixels=12",
         "--set", "detectors.camera.pixel_pitch=0.6", "--scheduler", "synchronous", "--quiet"]


def _run(tmp_path, config, *sets):
    out = tmp_path / "out"
    code = main(["run", str(CONFIGS / config), "--out", str(out), *SMALL, *[a for s in sets for a in ("--set", s)]])
    return code, out


def test_sweeping_a_detector_efficiency_keeps_the_swept_values(tmp_path, capsys):
    code, out = _run(tmp_path, "superresolution.yaml", "sweep={detectors.camera.efficiency: [0.5, 0.9]}")
    assert code == 0, capsys.readouterr().err
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert list(ds["camera_efficiency"].values) == [0.5, 0.9]
    assert ds["efficiency"].dims[0] == "camera_efficiency"  # the crb/mse variable keeps its name
    # the swept efficiency acts on the camera only: its detected photons scale with it
    detected = ds["detected_photons_per_copy"].sel(detector="camera").values
    np.testing.assert_allclose(detected[0] / detected[1], 0.5 / 0.9, rtol=1e-12)
    assert (out / "fisher.png").exists() and (out / "summary.txt").exists()


def test_two_dimensional_sweep_over_brightness_and_separation_writes_plots(tmp_path, capsys):
    code, out = _run(tmp_path, "superresolution.yaml",
                     "sweep={source.photons_per_copy: [0.001, 0.01], source.separation: [0.3, 1.0]}")
    assert code == 0, capsys.readouterr().err
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert ds["photons_per_copy"].dims == ("source_photons_per_copy", "separation")
    np.testing.assert_array_equal(ds["source_photons_per_copy"].values, [0.001, 0.01])
    assert (out / "fisher.png").exists() and (out / "mse.png").exists()


def test_sweeping_modes_of_the_displacement_study_is_renamed():
    raw, cfg = load_config(CONFIGS / "displacement_learning.yaml", {"sweep": {"source.modes": [2, 3]}})
    dims, _ = expand_sweep(raw, cfg)
    assert list(dims) == ["source_modes"]


def test_mixed_type_sweep_values_are_stored_as_validated_numbers():
    raw, cfg = load_config(CONFIGS / "superresolution.yaml", {"sweep": {"source.separation": [0.2, "0.5", 1]}})
    dims, _ = expand_sweep(raw, cfg)
    assert dims["separation"] == [0.2, 0.5, 1.0] and all(isinstance(v, float) for v in dims["separation"])


def test_two_fields_with_the_same_last_name_get_their_detectors_names():
    raw, cfg = load_config(CONFIGS / "superresolution.yaml",
                           {"sweep": {"detectors.camera.dark_counts": [0.0, 0.01], "detectors.spade.dark_counts": [0.0]}})
    dims, points = expand_sweep(raw, cfg)
    assert list(dims) == ["camera_dark_counts", "spade_dark_counts"] and len(points) == 2


def test_a_sweep_dim_reserved_by_the_framework_is_renamed_not_lost():
    with pytest.raises(ConfigError, match="source.copies"):  # no such field: validation names it
        raw, cfg = load_config(CONFIGS / "superresolution.yaml", {"sweep": {"source.copies": [1]}})
        expand_sweep(raw, cfg)
