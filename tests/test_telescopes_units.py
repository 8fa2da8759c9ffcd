"""Physical units of the two_point scene: photometry against hand-computed cases, unit errors name the field,
observing-time answers and FITS export (docs/telescopes.md, PHYSICS.md §10.2)."""

import numpy as np
import pytest
import xarray as xr
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from sensing.cli import main
from sensing.scenes.two_point import TwoPointScene, TwoPointSettings
from sensing.study.config import ConfigError, load_config

TELESCOPE_1M = {"aperture_diameter": "1 m", "wavelength": "550 nm", "bandwidth": "10 nm"}


def test_magnitude_zero_star_through_one_metre_aperture():
    """V = 0, D = 1 m, 10 nm at 550 nm. Zero point 3636 Jy (Bessell, Castelli & Plez 1998, Table A2, as entered in
    sensing.physics.photometry; PHYSICS.md §10.2 quotes ~3640 Jy [M]). By hand:
    f_nu = 3.636e-23 W m-2 Hz-1; h nu = 6.62607015e-34 * 299792458 / 550e-9 = 3.6117e-19 J;
    d nu = c * 1e-8 / (550e-9)^2 = 9.9105e12 Hz; A = pi/4 m^2 = 0.785398 m^2;
    photons/s = 3.636e-23 / 3.6117e-19 * 9.9105e12 * 0.785398 = 7.836e8; per temporal mode 7.907e-5."""
    s = TwoPointSettings(separation="10 mas", telescope=TELESCOPE_1M, brightness={"magnitude": 0, "band": "V"})
    sc = TwoPointScene(s)
    assert sc.copies_per_second() == pytest.approx(9.9105e12, rel=1e-4)
    assert s.photons_per_copy == pytest.approx(7.907e-5, rel=1e-3)
    assert s.photons_per_copy * sc.copies_per_second() == pytest.approx(7.836e8, rel=1e-3)
    assert s.units == "mas" and s.separation == 10.0
    # five magnitudes fainter: 100 times fewer photons; throughput and obscuration scale the area
    faint = TwoPointSettings(separation=10, telescope={**TELESCOPE_1M, "throughput": 0.5, "obscuration": 0.5},
                             brightness={"magnitude": "5 mag"})
    assert faint.photons_per_copy == pytest.approx(s.photons_per_copy / 100 * 0.5 * 0.75, rel=1e-12)


def test_two_magnitudes_set_relative_brightness_and_flux_density():
    s = TwoPointSettings(separation=10, telescope=TELESCOPE_1M, brightness={"magnitudes": [5, 7.5]})
    assert s.relative_brightness == pytest.approx(10**-1 / (1 + 10**-1), rel=1e-12)
    jy = TwoPointSettings(separation=10, telescope=TELESCOPE_1M, brightness={"flux_density": "3636 Jy"})
    v0 = TwoPointSettings(separation=10, telescope=TELESCOPE_1M, brightness={"magnitude": 0})
    assert jy.photons_per_copy == pytest.approx(v0.photons_per_copy, rel=1e-12)


def test_angles_convert_once():
    s = TwoPointSettings(separation="0.02 arcsec", centroid="-1 mas", telescope=TELESCOPE_1M, photons_per_copy=1e-4)
    assert (s.separation, s.centroid) == (pytest.approx(20.0), pytest.approx(-1.0))
    sc = TwoPointScene(TwoPointSettings(separation=20, telescope=TELESCOPE_1M, photons_per_copy=1e-4, dimensions=2))
    lam_d = 550e-9 / 1.0 * 180 / np.pi * 3600e3  # lambda/D in mas = 113.45
    # the annular/Airy PSF of the telescope: K = (pi / (lambda/D))^2 / 4 per photon, in mas^-2
    from sensing.analyzers.fisher import quantum_fisher_information

    k = quantum_fisher_information(sc, ["separation"])[0, 0] / 1e-4
    assert k == pytest.approx((np.pi / lam_d) ** 2 / 4, rel=1e-3)  # O(photons_per_copy) thermal correction


def _config(source):
    return {"name": "t", "seed": 1, "source": {"kind": "two_point", **source},
            "detectors": [{"name": "s", "kind": "spade", "modes": 2}], "copies": [1000], "repetitions": 2}


@pytest.mark.parametrize("source, field", [
    ({"separation": "5 m", "telescope": TELESCOPE_1M, "photons_per_copy": 1e-3}, "separation"),
    ({"separation": "5 mas", "photons_per_copy": 1e-3}, "separation"),
    ({"separation": 5, "telescope": {**TELESCOPE_1M, "aperture_diameter": "3 mas"}, "photons_per_copy": 1e-3},
     "aperture_diameter"),
    ({"separation": 5, "telescope": {**TELESCOPE_1M, "wavelength": "2 s"}, "photons_per_copy": 1e-3}, "wavelength"),
    ({"separation": 5, "telescope": TELESCOPE_1M, "brightness": {"magnitude": "3 Jy"}}, "magnitude"),
    ({"separation": 5, "telescope": TELESCOPE_1M, "brightness": {"magnitude": 1, "band": "Q"}}, "band"),
    ({"separation": 5, "observing_time": "2 m", "telescope": TELESCOPE_1M, "photons_per_copy": 1e-3}, "observing_time"),
    ({"separation": 5, "brightness": {"magnitude": 1}}, "brightness"),
    ({"separation": 5, "units": "psf_sigma", "telescope": TELESCOPE_1M, "photons_per_copy": 1e-3}, "units"),
    ({"separation": 1, "photons_per_copy": 1e-3, "psf": {"kind": "fits", "path": "/nonexistent/psf.fits", "pixel_scale": 0.1}},
     "path"),
    ({"separation": 1, "photons_per_copy": 1e-3, "psf": {"kind": "airy"}}, "psf.width"),
    ({"separation": 1, "photons_per_copy": 1e-3, "psf": {"kind": "airy", "width": "2 mas"}}, "psf.width"),
])
def test_wrong_units_are_config_errors_naming_the_field(source, field):
    with pytest.raises(ConfigError) as err:
        load_config(_config(source))
    assert field in str(err.value)


RUN = {
    "name": "tiny_telescope", "seed": 7,
    "source": {"kind": "two_point", "separation": "30 mas", "telescope": {**TELESCOPE_1M, "obscuration": 0.2},
               "psf": {"kind": "annular"}, "brightness": {"magnitude": 10}, "observing_time": "0.5 h"},
    "detectors": [{"name": "camera", "kind": "camera", "pixel_pitch": 20.0, "pixels": 16},
                  {"name": "pa", "kind": "spade", "modes": 4}],
    "analysis": {"kind": "parameter_estimation", "precision": {"separation": "1 mas"}},
    "copies": [1.0e+12, 1.0e+13], "repetitions": 4, "pipeline": {"batch_size": 1.0e+13},
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    import yaml

    folder = tmp_path_factory.mktemp("run")
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump(RUN))
    assert main(["run", str(config), "--out", str(folder / "out"), "--scheduler", "synchronous", "--quiet", "--no-plots"]) == 0
    return folder / "out"


def test_observing_time_to_precision(finished_run):
    ds = xr.open_dataset(finished_run / "results.nc")
    rate = float(ds["copies_per_second"])
    assert rate == pytest.approx(9.9105e12, rel=1e-4)
    assert ds["observing_time_to_precision"].attrs["units"] == "s"
    j = ds["fisher_information"].sel(parameter="separation")
    expected = 1 / (j * 1.0**2 * rate)  # single parameter: [J^-1] = 1/J; precision 1 mas
    assert np.allclose(ds["observing_time_to_precision"].sel(parameter="separation"), expected, rtol=1e-12)
    q = ds["quantum_observing_time_to_precision"].sel(parameter="separation")
    assert np.all(ds["observing_time_to_precision"].sel(parameter="separation") >= q * (1 - 1e-9))
    assert float(ds["true_value_rad"].sel(parameter="separation")) == pytest.approx(30 / 206264806.247, rel=1e-9)
    assert ds["true_value"].attrs["units"] == "mas"
    assert float(ds["true_value_lambda_over_d"].sel(parameter="separation")) == pytest.approx(30 / 113.446, rel=1e-4)
    assert float(ds["basis_error"]) < 1e-10
    assert ds["crb_at_observing_time"].sel(detector="pa", parameter="separation") == pytest.approx(
        1 / (float(j.sel(detector="pa")) * 1800 * rate), rel=1e-12)
    assert "hours to precision" in (finished_run / "summary.txt").read_text()


def test_export_fits_round_trip(finished_run, capsys):
    assert main(["export", str(finished_run), "--fits"]) == 0
    images = fits.open(finished_run / "fits" / "images.fits")
    counts = images["CAMERA_COUNTS_0"]
    assert counts.header["BUNIT"] == "count" and counts.data.shape == (1, 16)
    wcs = WCS(counts.header)
    assert wcs.wcs.cdelt[0] == pytest.approx(20.0 / 3600e3)  # 20 mas in degrees
    assert counts.header["EXPTIME"] == pytest.approx(1e13 / 9.9105e12, rel=1e-4)
    expected = images["CAMERA_EXPECTED_0"].data
    assert counts.data.sum() == pytest.approx(expected.sum(), abs=6 * np.sqrt(expected.sum()))  # Poisson, 6 s.e.
    table = Table.read(finished_run / "fits" / "results.fits", hdu="OBSERVING_TIME_TO_PRECISION")
    assert str(table["observing_time_to_precision"].unit) == "s"
    ds = xr.open_dataset(finished_run / "results.nc")
    assert np.allclose(np.sort(table["observing_time_to_precision"]),
                       np.sort(ds["observing_time_to_precision"].values.ravel()))
    # refuses to overwrite; bad run folder: exit 2 and one line
    capsys.readouterr()
    assert main(["export", str(finished_run), "--fits"]) == 2
    assert main(["export", str(finished_run / "nowhere"), "--fits"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert main(["export", str(finished_run), "--fits", "--overwrite"]) == 0


def test_target_precision_in_physical_units(tmp_path):
    """target.precision '1 mas': the run stops at the first checkpoint whose spread of estimates is <= 1 mas
    (relative target 1/30 at d = 30 mas); the CRB there is within a factor 2 of 1 mas (16 repetitions:
    the spread's relative s.e. is ~0.18, so the crossing checkpoint's sqrt(crb) is 1 mas within x2)."""
    import yaml

    from sensing.api import run

    config = {
        "name": "tgt", "seed": 3,
        "source": {"kind": "two_point", "separation": "30 mas", "telescope": TELESCOPE_1M, "brightness": {"magnitude": 10}},
        "detectors": [{"name": "pa", "kind": "spade", "modes": 4}],
        "target": {"parameter": "separation", "precision": "1 mas", "max_copies": 1.0e+14, "initial_copies": 1.0e+11},
        "repetitions": 16, "pipeline": {"batch_size": 1.0e+14},
    }
    ds = run(config, scheduler="synchronous")
    reached = float(ds["copies_to_target"].sel(detector="pa"))
    crb = float(ds["crb"].sel(detector="pa", copies=int(reached), parameter="separation"))
    assert 0.5 < np.sqrt(crb) < 2.0
    assert "precision 1 mas" in ds.attrs["target"]
    with pytest.raises(ConfigError) as err:
        run({**config, "target": {**config["target"], "precision": "1 m"}}, scheduler="synchronous")
    assert "target.precision" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config({**config, "target": {**config["target"], "relative_error": 0.1}})
    assert "exactly one of relative_error and precision" in str(err.value)
