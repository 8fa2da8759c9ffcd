"""CV classical shadows: pattern functions, homodyne/heterodyne samplers and estimators (PHYSICS.md 4.2).

States are built independently with Strawberry Fields (fock and gaussian backends, hbar = 2) or numpy.
Monte Carlo checks: fixed seeds, 3 s.e. for the PHYSICS 4.2 checkpoints (as stated there), 4 s.e.
elsewhere.
"""

import math

import numpy as np
import pytest
from scipy.special import dawsn, erf, eval_hermite
from scipy.stats import gamma as gamma_law
from scipy.stats import kstest

from sensing.physics import cv_shadows as cv
from sensing.sf_compat import import_strawberryfields

ALPHA = 0.8 + 0.3j
SQUEEZING = 0.5


@pytest.fixture(scope="module")
def sf():
    return import_strawberryfields()


def run_sf(sf, gates, backend, cutoff=15):
    prog = sf.Program(1)
    with prog.context as q:
        for gate in gates:
            gate | q[0]
    options = {"cutoff_dim": cutoff} if backend == "fock" else {}
    return sf.Engine(backend, backend_options=options).run(prog).state


@pytest.fixture(scope="module")
def coherent(sf):
    gates = [sf.ops.Dgate(abs(ALPHA), np.angle(ALPHA))]
    gauss = run_sf(sf, gates, "gaussian")
    return {"dm": run_sf(sf, gates, "fock", 14).reduced_dm(0), "cov": gauss.cov(), "means": gauss.means()}


@pytest.fixture(scope="module")
def squeezed(sf):
    gates = [sf.ops.Sgate(SQUEEZING)]
    gauss = run_sf(sf, gates, "gaussian")
    return {"dm": run_sf(sf, gates, "fock", 20).reduced_dm(0), "cov": gauss.cov(), "means": gauss.means()}


def fock_functions(max_n, x):
    """psi_n(x) from scipy's physicists' Hermite polynomials (independent of cv.hermite_functions)."""
    return np.array([eval_hermite(n, x) * np.exp(-x**2 / 2) / math.sqrt(2**n * math.factorial(n) * math.sqrt(math.pi))
                     for n in range(max_n + 1)])


def within(estimate, exact, se, sigmas=4.0):
    return abs(estimate - exact) < sigmas * se


# ---------------------------------------------------------------- pattern functions


def test_pattern_f00_is_two_minus_four_x_dawson():
    x = np.linspace(-6, 6, 121)
    np.testing.assert_allclose(cv.pattern_function(0, 0, x), 2 - 4 * x * dawsn(x), atol=1e-10)


def test_pattern_fnn_at_origin_and_bounded():
    values = [cv.pattern_function(n, n, np.array([0.0]))[0] for n in range(16)]
    np.testing.assert_allclose(values, [2 * (-1) ** n for n in range(16)], atol=1e-9)
    x = np.linspace(-6, 6, 601)
    assert max(np.abs(cv.pattern_function(n, n, x)).max() for n in range(5)) < 2.05  # PHYSICS: ~2.02


@pytest.mark.parametrize("efficiency", [1.0, 0.8])
def test_pattern_functions_invert_the_quadrature_distribution(efficiency):
    # rho_mn = int dtheta/pi int dx p_eta(x, theta) e^{i(m-n)theta} F^eta_mn(x) for a random D = 5 state;
    # p computed here from scipy Hermite polynomials, loss by Gaussian convolution on the grid.
    rng = np.random.default_rng(5)
    g = rng.normal(size=(5, 3)) + 1j * rng.normal(size=(5, 3))
    rho = g @ g.conj().T
    rho /= np.trace(rho).real
    x = np.linspace(-11, 11, 1601)
    dx = x[1] - x[0]
    nodes, weights = np.polynomial.legendre.leggauss(40)
    theta, w_theta = np.pi / 2 * (nodes + 1), np.pi / 2 * weights / np.pi
    psi = fock_functions(4, x)
    n = np.arange(5)
    amp = np.exp(-1j * np.outer(theta, n))[:, :, None] * psi[None]  # <x_theta|n>, (theta, n, x)
    p = np.real(np.einsum("tmx,mn,tnx->tx", amp, rho, amp.conj()))
    if efficiency < 1:
        kernel = np.exp(-((x[:, None] - math.sqrt(efficiency) * x[None]) ** 2) / (1 - efficiency))
        p = p @ (kernel.T / math.sqrt(math.pi * (1 - efficiency))) * dx
    assert np.allclose((p.sum(1) * dx), 1, atol=1e-8)
    for m in range(5):
        for k in range(m + 1):
            pattern = cv.pattern_function(m, k, x, efficiency)
            estimate = np.sum(w_theta[:, None] * np.exp(1j * (m - k) * theta)[:, None] * p * pattern[None]) * dx
            assert abs(estimate - rho[m, k]) < 1e-7, (m, k, estimate, rho[m, k])


# ---------------------------------------------------------------- PHYSICS 4.2 checkpoints


def test_homodyne_checkpoints_coherent_state(coherent):
    samples = cv.sample_homodyne_gaussian(coherent["cov"], coherent["means"], 400_000, np.random.default_rng(1))
    est = cv.estimate_density_matrix(samples, 3)
    for m in range(3):  # rho_00, rho_10, rho_20
        exact = coherent["dm"][m, 0]
        assert within(est.estimate[m, 0].real, exact.real, est.standard_error_real[m, 0], 3)
        if m:
            assert within(est.estimate[m, 0].imag, exact.imag, est.standard_error_imag[m, 0], 3)
    assert coherent["dm"][0, 0].real == pytest.approx(math.exp(-abs(ALPHA) ** 2), abs=1e-10)


def test_homodyne_checkpoints_squeezed_vacuum(squeezed):
    samples = cv.sample_homodyne_gaussian(squeezed["cov"], squeezed["means"], 400_000, np.random.default_rng(2))
    est = cv.estimate_density_matrix(samples, 3)
    r = SQUEEZING
    for (m, n), exact in {(0, 0): 1 / math.cosh(r), (2, 0): -math.tanh(r) / (math.sqrt(2) * math.cosh(r)), (1, 1): 0.0}.items():
        assert squeezed["dm"][m, n].real == pytest.approx(exact, abs=1e-6)
        assert within(est.estimate[m, n].real, exact, est.standard_error_real[m, n], 3)


# ---------------------------------------------------------------- exact samplers


def test_fock_homodyne_sampler_single_photon_law():
    # |1>: p(x|theta) = 2 x^2 e^{-x^2}/sqrt(pi) for every theta, CDF 1/2 + erf(x)/2 - x e^{-x^2}/sqrt(pi)
    samples = cv.sample_homodyne_fock(np.array([0, 1, 0, 0]), 40_000, np.random.default_rng(3))
    cdf = lambda x: 0.5 + 0.5 * erf(x) - x * np.exp(-x**2) / math.sqrt(math.pi)
    assert kstest(samples.quadratures, cdf).pvalue > 1e-4
    assert kstest(samples.phases / np.pi, "uniform").pvalue > 1e-4
    photons = cv.estimate_photon_distribution(samples, 3)
    for n, exact in enumerate([0.0, 1.0, 0.0]):
        assert within(photons.estimate[n], exact, photons.standard_error[n])
    wigner = cv.estimate_wigner(samples, [0.0], cutoff=3)
    assert within(wigner.estimate[0], -2 / math.pi, wigner.standard_error[0])


def test_fock_homodyne_sampler_coherent_state(coherent):
    rng = np.random.default_rng(4)
    samples = cv.sample_homodyne_fock(coherent["dm"][:12, :12], 60_000, rng)
    est = cv.estimate_density_matrix(samples, 2)
    assert within(est.estimate[0, 0].real, coherent["dm"][0, 0].real, est.standard_error_real[0, 0])
    assert within(est.estimate[1, 0].imag, coherent["dm"][1, 0].imag, est.standard_error_imag[1, 0])
    for phase in (0.0, 1.0):
        moment = cv.estimate_quadrature_moment(samples, 1, phase)
        assert within(moment.estimate, math.sqrt(2) * (ALPHA * np.exp(-1j * phase)).real, moment.standard_error)
    nbar = cv.estimate_mean_photon_number(samples)
    assert within(nbar.estimate, abs(ALPHA) ** 2, nbar.standard_error)


# ---------------------------------------------------------------- efficiency


def test_homodyne_efficiency_corrections(coherent, squeezed):
    eta = 0.75
    rng = np.random.default_rng(6)
    samples = cv.sample_homodyne_gaussian(coherent["cov"], coherent["means"], 200_000, rng, efficiency=eta)
    corrected = cv.estimate_photon_distribution(samples, 1, efficiency=eta)
    raw = cv.estimate_photon_distribution(samples, 1)
    assert within(corrected.estimate[0], math.exp(-abs(ALPHA) ** 2), corrected.standard_error[0])
    assert within(raw.estimate[0], math.exp(-eta * abs(ALPHA) ** 2), raw.standard_error[0])  # lossy coherent
    assert not within(raw.estimate[0], math.exp(-abs(ALPHA) ** 2), raw.standard_error[0], 8)
    nbar = cv.estimate_mean_photon_number(samples, efficiency=eta)
    assert within(nbar.estimate, abs(ALPHA) ** 2, nbar.standard_error)
    x1 = cv.estimate_quadrature_moment(samples, 1, 0.4, efficiency=eta)
    assert within(x1.estimate, math.sqrt(2) * (ALPHA * np.exp(-0.4j)).real, x1.standard_error)
    squeezed_samples = cv.sample_homodyne_gaussian(squeezed["cov"], None, 200_000, rng, efficiency=eta)
    for phase, exact in ((0.0, math.exp(-2 * SQUEEZING) / 2), (math.pi / 2, math.exp(2 * SQUEEZING) / 2)):
        x2 = cv.estimate_quadrature_moment(squeezed_samples, 2, phase, efficiency=eta)
        assert within(x2.estimate, exact, x2.standard_error)
    with pytest.raises(ValueError):
        cv.pattern_function(0, 0, np.zeros(2), efficiency=0.5)


def test_homodyne_fidelity_and_wigner(coherent):
    rng = np.random.default_rng(7)
    samples = cv.sample_homodyne_gaussian(coherent["cov"], coherent["means"], 60_000, rng)
    target = coherent["dm"][:5, 0] / np.linalg.norm(coherent["dm"][:5, 0])  # truncated coherent state
    exact = float(np.real(target.conj() @ coherent["dm"][:5, :5] @ target))
    fid = cv.estimate_fidelity(samples, target)
    assert within(fid.estimate, exact, fid.standard_error)
    vac = cv.estimate_fidelity(samples, np.array([1.0, 0.0]))
    assert within(vac.estimate, math.exp(-abs(ALPHA) ** 2), vac.standard_error)
    vacuum = cv.sample_homodyne_gaussian(np.eye(2), None, 60_000, rng)
    points = np.array([0.0, 0.4 - 0.2j])
    wigner = cv.estimate_wigner(vacuum, points, cutoff=3)
    exact_w = 2 / math.pi * np.exp(-2 * np.abs(points) ** 2)
    assert np.all(within(wigner.estimate, exact_w, wigner.standard_error))


# ---------------------------------------------------------------- heterodyne


def test_heterodyne_gaussian_moments_and_characteristic_function(coherent, squeezed):
    rng = np.random.default_rng(8)
    betas = np.array([0.5, 0.3j, -0.4 + 0.2j])
    chi = np.exp(-np.abs(betas) ** 2 / 2 + betas * np.conj(ALPHA) - np.conj(betas) * ALPHA)
    for eta in (1.0, 0.6):
        a = cv.sample_heterodyne_gaussian(coherent["cov"], coherent["means"], 200_000, rng, efficiency=eta)
        mean = cv.heterodyne_moment(a, 1, 0, "normal", eta)
        assert within(mean.estimate.real, ALPHA.real, mean.standard_error_real)
        assert within(mean.estimate.imag, ALPHA.imag, mean.standard_error_imag)
        anti = cv.heterodyne_moment(a, 1, 1, "antinormal", eta)
        assert within(anti.estimate.real, abs(ALPHA) ** 2 + 1, anti.standard_error_real)
        nbar = cv.heterodyne_mean_photon_number(a, eta)
        assert within(nbar.estimate, abs(ALPHA) ** 2, nbar.standard_error)
        est = cv.heterodyne_characteristic_function(a, betas, eta)
        assert np.all(within(est.estimate.real, chi.real, est.standard_error_real))
        assert np.all(within(est.estimate.imag, chi.imag, est.standard_error_imag))
    a = cv.sample_heterodyne_gaussian(squeezed["cov"], None, 200_000, rng, efficiency=0.8)
    r = SQUEEZING
    a2 = cv.heterodyne_moment(a, 2, 0, "normal", 0.8)  # <a^2> = -sinh r cosh r for Sgate(r)
    assert within(a2.estimate.real, -math.sinh(r) * math.cosh(r), a2.standard_error_real)
    assert within(cv.heterodyne_mean_photon_number(a, 0.8).estimate, math.sinh(r) ** 2,
                  cv.heterodyne_mean_photon_number(a, 0.8).standard_error)


def test_heterodyne_fock_sampler(coherent):
    rng = np.random.default_rng(9)
    one = cv.sample_heterodyne_fock(np.array([0, 1.0]), 40_000, rng)
    # Q of |1>: |alpha|^2 ~ Gamma(2, 1), uniform phase
    assert kstest(np.abs(one) ** 2, gamma_law(2).cdf).pvalue > 1e-4
    assert kstest((np.angle(one) / (2 * np.pi)) % 1, "uniform").pvalue > 1e-4
    two = cv.sample_heterodyne_fock(np.array([0, 0, 1.0, 0]), 60_000, rng, efficiency=0.7)
    second = cv.heterodyne_moment(two, 2, 2, "normal", 0.7)  # <a^dag^2 a^2> = 2 for |2>
    assert within(second.estimate.real, 2.0, second.standard_error_real)
    assert within(cv.heterodyne_mean_photon_number(two, 0.7).estimate, 2.0,
                  cv.heterodyne_mean_photon_number(two, 0.7).standard_error)
    a = cv.sample_heterodyne_fock(coherent["dm"][:12, :12], 40_000, rng)
    mean = cv.heterodyne_moment(a, 1, 0)
    assert within(mean.estimate.real, ALPHA.real, mean.standard_error_real)
    assert within(mean.estimate.imag, ALPHA.imag, mean.standard_error_imag)
