"""The two-point scene (Tsang, Nair, Lu, PRX 6, 031033 (2016)) and its image-plane basis."""

import numpy as np
import pytest
from scipy.integrate import quad

from sensing.analyzers.fisher import quantum_fisher_information
from sensing.contracts.states import HermiteGaussModes
from tests.helpers import make_scene


@pytest.mark.parametrize("shift", [0.0, 0.3, -1.1, 2.5])
def test_hermite_gauss_overlaps_match_quadrature(shift):
    """<phi_q|psi_X> = exp(-X^2/8s^2) (X/2s)^q / sqrt(q!) against direct integration."""
    modes = HermiteGaussModes(count=7, width=1.3)
    closed = modes.point_source_amplitudes(np.array(shift))
    psf = lambda x: (2 * np.pi * 1.3**2) ** -0.25 * np.exp(-((x - shift) ** 2) / (4 * 1.3**2))  # noqa: E731
    for q in range(7):
        numeric = quad(lambda x: modes.functions(np.array([x]))[q, 0] * psf(x), -40, 40, limit=200)[0]
        assert closed[q] == pytest.approx(numeric, abs=1e-10)


def test_region_operators_of_whole_line_are_identity():
    modes = HermiteGaussModes(count=10, width=0.7, center=0.2)
    edges = np.linspace(-12, 12, 97)
    total = modes.region_operators(edges).sum(axis=0)
    np.testing.assert_allclose(total, np.eye(10), atol=1e-12)


@pytest.mark.parametrize("separation,centroid,brightness", [(0.0, 0.0, 0.5), (0.7, 0.2, 0.3), (2.0, -0.4, 0.9)])
def test_strawberry_fields_state_equals_closed_form(separation, centroid, brightness):
    """SF (Thermal + PassiveChannel) builds exactly Gamma = sum_s N_s c_s c_s^T."""
    scene = make_scene(separation=separation, centroid=centroid, relative_brightness=brightness, photons_per_copy=0.02, psf_sigma=1.5)
    state = scene.state()
    assert state.classical and state.modes == scene.modes
    np.testing.assert_allclose(state.photon_correlation(), scene.light().correlation, atol=1e-14)
    assert np.trace(state.photon_correlation()).real == pytest.approx(0.02, rel=1e-10)
    np.testing.assert_allclose(state.means, 0.0, atol=1e-14)


@pytest.mark.parametrize("separation", [0.05, 0.5, 1.0, 2.0])
def test_quantum_fisher_information_per_photon_is_quarter_over_sigma_squared(separation):
    """TNL 2016: QFI per photon for the separation = 1/(4 sigma^2) at every separation.

    The exact thermal-state QFI per photon is 1/(4 sigma^2) up to O(photons_per_copy).
    """
    eps, sigma = 1e-4, 2.0
    scene = make_scene(separation=separation * sigma, photons_per_copy=eps, psf_sigma=sigma)
    qfi = quantum_fisher_information(scene, ["separation"])[0, 0]
    assert qfi / eps == pytest.approx(1 / (4 * sigma**2), rel=5 * eps + 1e-5)


def test_basis_size_refuses_sources_far_off_axis():
    with pytest.raises(ValueError, match="psf_sigma"):
        make_scene(separation=1.0, centroid=30.0, photons_per_copy=0.01)
