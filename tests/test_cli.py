"""The command line: validate, run with overrides, outputs on disk, refusal to overwrite."""

from pathlib import Path

import pytest
import xarray as xr
import yaml

from sensing.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
SMALL = ["--set", "copies=[1000, 100000]", "--set", "repetitions=3", "--set", "sweep={source.separation: [0.2, 1.0]}",
         "--set", "detectors.camera.pixels=30", "--set", "detectors.camera.pixel_pitch=0.4"]


def test_shipped_config_is_valid(capsys):
    assert main(["validate", str(SHIPPED)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("override,field", [
    ("source.photons_per_copy=-1", "source.photons_per_copy"),
    ("detectors.0.efficiency=1.5", "detectors.0.efficiency"),
    ("detectors.spade.modes=0", "detectors.1.modes"),
    ("copies=[10, 5]", "copies.1"),
    ("repetitions=2.5", "repetitions"),
    ("source.colour=red", "source.colour"),
    ("analysis.estimate=[wavelength]", "analysis.estimate.0"),
    ("detectors.0.kind=telescope", "detectors.0"),
    ("sweep={source.separation: [0.1, -2]}", "source.separation"),
    ("detectors.camera.field_of_view=10", "detectors.0"),  # pixels and field_of_view both given
])
def test_bad_values_exit_2_naming_the_field(capsys, override, field):
    assert main(["validate", str(SHIPPED), "--set", override]) == 2
    err = capsys.readouterr().err
    assert field in err
    assert "Traceback" not in err


def test_error_names_value_and_allowed_range(capsys):
    assert main(["validate", str(SHIPPED), "--set", "detectors.0.efficiency=1.5"]) == 2
    err = capsys.readouterr().err
    assert "1.5" in err and "less than or equal to 1" in err


def test_unknown_key_and_bad_override_path(capsys, tmp_path):
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["sead"] = 3
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(path)]) == 2
    assert "sead: unknown field" in capsys.readouterr().err
    assert main(["validate", str(SHIPPED), "--set", "detectors.nosuch.efficiency=0.5"]) == 2
    assert "no item named 'nosuch'" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2


def test_run_writes_results_plots_summary_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", str(SHIPPED), "--out", str(out), "--scheduler", "synchronous", *SMALL]
    assert main(args) == 0
    for name in ("results.nc", "fisher.png", "mse.png", "summary.txt"):
        assert (out / name).stat().st_size > 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert ds.sizes["separation"] == 2 and ds.sizes["repetition"] == 3
        assert yaml.safe_load(ds.attrs["config"])["repetitions"] == 3
        first = ds["estimate"].values.copy()
    assert "J/QFI" in capsys.readouterr().out
    before = (out / "results.nc").read_bytes()
    assert main(args) == 2  # refuses, leaves the file alone
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "results.nc").read_bytes() == before
    assert main(args + ["--overwrite", "--quiet"]) == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert (ds["estimate"].values == first).all()  # same config and seed: same numbers


def test_camera_field_of_view_gives_the_pixel_count(capsys):
    from tests.helpers import make_detector

    assert make_detector(kind="camera", pixel_pitch=0.1, field_of_view=12.0).settings.pixels == 120
    assert make_detector(kind="camera", pixel_pitch=0.3, field_of_view=1.0).settings.pixels == 4
    assert main(["validate", str(SHIPPED), "--set", "detectors.camera.pixels=null", "--set", "detectors.camera.field_of_view=8"]) == 0


def test_results_file_has_the_mode_of_the_other_outputs(tmp_path):
    import os
    import stat

    out = tmp_path / "out"
    assert main(["run", str(SHIPPED), "--out", str(out), "--scheduler", "synchronous", "--quiet", *SMALL]) == 0
    mask = os.umask(0)
    os.umask(mask)
    expected = 0o666 & ~mask
    assert stat.S_IMODE((out / "results.nc").stat().st_mode) == expected
    assert stat.S_IMODE((out / "summary.txt").stat().st_mode) == expected
