"""Unequal sources: the centroid held fixed is the intensity centroid (issue 8, item 3)."""

import numpy as np
import pytest

from sensing.analyzers.fisher import detector_fisher_information
from tests.helpers import make_detector, make_scene

CAMERA = dict(kind="camera", pixel_pitch=0.1, field_of_view=12.0)  # fine pixels: (pitch/sigma)^2/12 < 1e-3 from the continuum camera


def camera_information_per_photon(separation, brightness, convention, eps=1e-4):
    scene = make_scene(separation=separation, photons_per_copy=eps, relative_brightness=brightness,
                       centroid_convention=convention)
    return detector_fisher_information(scene, make_detector(**CAMERA), ["separation"])[0, 0] / eps


def test_intensity_convention_keeps_the_intensity_centroid_fixed():
    scene = make_scene(separation=0.8, photons_per_copy=0.1, relative_brightness=0.2, centroid=0.3,
                       centroid_convention="intensity")
    amplitudes, photons = scene._sources(scene.values())
    positions = np.array([0.3 - 0.2 * 0.8, 0.3 + 0.8 * 0.8])
    expected = scene.modes.point_source_amplitudes(positions)
    np.testing.assert_allclose(amplitudes, expected, rtol=1e-12, atol=1e-15)
    assert float(photons @ positions / photons.sum()) == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize("brightness", [0.2, 0.5])
def test_camera_rayleigh_curse_for_unequal_sources_with_known_intensity_centroid(brightness):
    r"""Camera, centroid and brightness known, d = 0.02 sigma: J = 2 (b(1-b))^2 d^2 / sigma^4 per photon.

    Small-d expansion of the image f(x) = N(0, sigma^2)[1 + b(1-b) d^2 He_2(x/sigma)/(2 sigma^2) + O(d^3)]
    (second moment of the sources about their intensity centroid, b(1-b)d^2; E[He_2^2] = 2).
    Relative corrections: O(d^2/sigma^2) from the next moments and (pitch/sigma)^2/12 from the
    pixels, both below 1e-3 here; eps = 1e-4 adds O(eps). With the midpoint held fixed
    instead, J -> (b - 1/2)^2 / sigma^2 (a shift of the intensity centroid), no curse.
    """
    d, b = 0.02, brightness
    expected = 2 * (b * (1 - b)) ** 2 * d**2
    assert camera_information_per_photon(d, b, "intensity") == pytest.approx(expected, rel=5e-3)
    midpoint = camera_information_per_photon(d, b, "midpoint")
    assert midpoint == pytest.approx((b - 0.5) ** 2 + expected, rel=5e-3, abs=1e-9)


def test_intensity_convention_program_matches_closed_form_light():
    """The Strawberry Fields program builds the same light as the closed form under the intensity convention."""
    from sensing.contracts.states import ThermalLight

    scene = make_scene(separation=1.3, photons_per_copy=0.4, relative_brightness=0.3, centroid=-0.2,
                       centroid_convention="intensity")
    built = ThermalLight.from_state(scene.state()).correlation
    np.testing.assert_allclose(built, scene.light().correlation, atol=1e-12)
