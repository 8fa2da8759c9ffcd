"""Hypothesis testing on a scene in physical units: observing times from the telescope's
copies per second, and no misleading 'zero copies' where the quantum Stein estimate fails."""

from pathlib import Path

import numpy as np

import sensing
from sensing.study.registry import SCENES

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "one_or_two.yaml"
TELESCOPE = {"sweep": {"source.separation": [10.0]}, "copies": [1000, 10000], "source.units": "mas",
             "source.telescope": {"aperture_diameter": "2.4 m", "wavelength": "550 nm", "bandwidth": "10 nm",
                                  "throughput": 0.5},
             "source.psf_sigma": 20.0, "source.brightness": {"magnitude": 10.0, "band": "V"},
             "source.photons_per_copy": None, "detectors.camera.pixel_pitch": 4.0}


def test_observing_time_in_seconds_from_the_telescope():
    ds = sensing.run(CONFIG, TELESCOPE, scheduler="synchronous")
    scene = SCENES["two_point"](SCENES["two_point"].Settings(
        kind="two_point", separation=10.0, units="mas", psf_sigma=20.0, telescope=TELESCOPE["source.telescope"],
        brightness=TELESCOPE["source.brightness"]))
    rate = scene.copies_per_second()
    np.testing.assert_allclose(rate, 2.99792458e8 * 10e-9 / 550e-9**2, rtol=1e-3)  # bandwidth in Hz
    assert ds["observing_time_needed"].attrs["units"] == "s"
    np.testing.assert_allclose(ds["observing_time_needed"].values, ds["copies_needed"].values / rate, rtol=1e-12)
    assert np.all(np.isfinite(ds["observing_time_needed"].values))
    # one-vs-two: D(rho0||rho1) is infinite (the three PSF shifts are independent), so the quantum
    # Stein estimate of the asymmetric copies is undefined (NaN), not zero copies
    assert np.isinf(ds["quantum_relative_entropy"].values).all()
    assert np.isnan(ds["quantum_copies_needed"].sel(setting="asymmetric").values).all()
    assert (ds["quantum_copies_needed"].sel(setting="symmetric").values > 0).all()
