"""Quantum Fisher information of two thermal point sources at every brightness and separation (issue 8, items 1 and 4)."""

import mpmath
import numpy as np
import pytest

from sensing.analyzers.fisher import detector_fisher_information, quantum_fisher_information
from sensing.physics.gaussian import quantum_fisher_information as williamson_qfi
from sensing.physics.gaussian import thermal_quantum_fisher_information
from tests.helpers import make_detector, make_scene

mpmath.mp.dps = 40


def two_mode_qfi(photons_per_copy, separation, sigma):
    r"""Closed-form QFI per copy for the separation of two equal thermal sources (40-digit arithmetic).

    The light lives in the span of the two PSF shifts :math:`\psi_\pm = \psi(x \pm d/2)`, with
    overlap :math:`\delta = e^{-d^2/(8\sigma^2)}`. Its thermal eigenmodes are the even and odd
    combinations :math:`e, o = (\psi_+ \pm \psi_-)/\sqrt{2(1\pm\delta)}` with
    :math:`n_{e,o} = \epsilon(1\pm\delta)/2` photons. Their derivatives are orthogonal to e and o
    by parity and normalisation, so the only matrix elements of :math:`\partial\Gamma` are
    :math:`\partial n_{e,o}` and :math:`n_{e,o}\|\partial e\|, n_{e,o}\|\partial o\|` towards the
    unpopulated directions, and the thermal-state QFI (Nair & Tsang, PRL 117, 190801 (2016)) is

    .. math:: F = \sum_{m=e,o}\frac{(\partial n_m)^2}{n_m(1+n_m)} + 4n_m\|\partial m\|^2 .

    Gram model: :math:`\|\partial u_{e,o}\|^2 = (k \mp g)/2` with :math:`k = \|\psi'\|^2 = 1/(4\sigma^2)`
    and :math:`g = \langle\psi'_+|\psi'_-\rangle = (1/(4\sigma^2) - d^2/(16\sigma^4))\delta`, and
    :math:`\|\partial m\|^2 = \|\partial u_m\|^2/N_m^2 - (\partial\delta)^2/(4(1\pm\delta)^2)`,
    :math:`N_m^2 = 2(1\pm\delta)`.
    """
    eps, d, s = mpmath.mpf(photons_per_copy), mpmath.mpf(separation), mpmath.mpf(sigma)
    delta = mpmath.exp(-d**2 / (8 * s**2))
    ddelta = -d / (4 * s**2) * delta
    k = 1 / (4 * s**2)
    g = (1 / (4 * s**2) - d**2 / (16 * s**4)) * delta
    total = mpmath.mpf(0)
    for sign in (+1, -1):
        n = eps * (1 + sign * delta) / 2
        dn = eps * sign * ddelta / 2
        norm2 = 2 * (1 + sign * delta)
        tangent = (k - sign * g) / 2 / norm2 - ddelta**2 / (4 * (1 + sign * delta) ** 2)
        total += dn**2 / (n * (1 + n)) + 4 * n * tangent
    return float(total)


@pytest.mark.parametrize("photons_per_copy", [1e-6, 1e-4, 1e-2, 0.5, 2.0, 20.0])
def test_thermal_qfi_matches_two_mode_closed_form_across_brightness_and_separation(photons_per_copy):
    """The framework's QFI equals the closed form within 1e-6 for eps in [1e-6, 20] and d in [1e-4, 4] sigma.

    Before issue 8 the odd mode (eps d^2/(16 sigma^2) photons) was treated as pure below an
    excess of 1e-8, and its information was dropped (9.6e-6 instead of 0.51 per photon at
    eps = 1e-4, d = 0.01 sigma, sigma = 0.7).
    """
    sigma = 0.7
    for separation in [1e-4, 1e-2, 0.3, 1.0, 4.0]:
        d = separation * sigma
        scene = make_scene(separation=d, photons_per_copy=photons_per_copy, psf_sigma=sigma)
        value = quantum_fisher_information(scene, ["separation"])[0, 0]
        expected = two_mode_qfi(photons_per_copy, d, sigma)
        assert value == pytest.approx(expected, rel=1e-6), (separation, value, expected)


def test_faint_close_sources_reach_tsang_limit_per_photon():
    """eps = 1e-4, d = 0.01 sigma: QFI per photon 1/(4 sigma^2) = 0.5102 (to O(eps) and O(d^2))."""
    sigma = 0.7
    scene = make_scene(separation=0.01 * sigma, photons_per_copy=1e-4, psf_sigma=sigma)
    per_photon = quantum_fisher_information(scene, ["separation"])[0, 0] / 1e-4
    assert per_photon == pytest.approx(1 / (4 * sigma**2), rel=2e-4)


def test_two_mode_closed_form_agrees_with_williamson_formula_where_it_is_well_conditioned():
    """Cross-check of the oracle itself: the Monras/Safranek phase-space formula on SF's covariance."""
    scene = make_scene(separation=1.0, photons_per_copy=1.0)
    centre, pairs = scene.state_derivatives(["separation"])
    dcov = np.array([(plus.cov - minus.cov) / (2 * h) for minus, plus, h in pairs])
    assert williamson_qfi(centre.cov, dcov)[0, 0] == pytest.approx(two_mode_qfi(1.0, 1.0, 1.0), rel=1e-6)


def test_single_thermal_mode_qfi():
    """F = (dN)^2 / (N (N + 1)) for one thermal mode, N = 0.1, 1, 3 (PHYSICS.md 7.3)."""
    for photons in [0.1, 1.0, 3.0]:
        factor = np.array([[np.sqrt(photons)]])
        derivative = np.array([[0.5 / np.sqrt(photons)]])  # dL/dN
        assert thermal_quantum_fisher_information(factor, derivative)[0, 0] == pytest.approx(
            1 / (photons * (photons + 1)), rel=1e-12
        )


@pytest.mark.parametrize("photons_per_copy", [1e-4, 2.0])
def test_zero_separation_is_the_one_sided_limit(photons_per_copy):
    """At d = 0 the QFI and the ideal-SPADE information are their limits from d > 0, not 0.

    sigma = 0.7: 1/(4 sigma^2) = 0.5102 per photon (weak light). A central difference across
    d = 0 of the (even) covariance or mean gives 0 and an infinite "efficiency".
    """
    sigma = 0.7
    scene = make_scene(separation=0.0, photons_per_copy=photons_per_copy, psf_sigma=sigma)
    qfi = quantum_fisher_information(scene, ["separation"])[0, 0]
    assert qfi == pytest.approx(two_mode_qfi(photons_per_copy, 1e-9, sigma), rel=1e-6)
    spade = make_detector(kind="spade", modes=12)
    fisher = detector_fisher_information(scene, spade, ["separation"])[0, 0]
    near = detector_fisher_information(
        make_scene(separation=1e-3 * sigma, photons_per_copy=photons_per_copy, psf_sigma=sigma), spade, ["separation"]
    )[0, 0]
    assert np.isfinite(fisher) and fisher > 0
    assert fisher == pytest.approx(near, rel=1e-4)
    if photons_per_copy < 1e-3:
        assert fisher / photons_per_copy == pytest.approx(1 / (4 * sigma**2), rel=1e-3)
