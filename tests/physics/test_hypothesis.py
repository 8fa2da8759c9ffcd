"""One star or two: error exponents and exact error probabilities (sensing.physics.hypothesis).

Oracles: PHYSICS.md §6.2 and §6.3 ([D] rows only), closed forms derived in the module
docstrings, and independent computations written here (eigenvalues, Monte Carlo, Fock sums).
"""

import numpy as np
import pytest
from scipy.stats import binom, entropy, norm

from sensing.physics import hypothesis as hyp

SIGMA = 1.0


@pytest.fixture
def rng():
    """Fixed seed (local, so the file also runs with ``--noconftest``)."""
    return np.random.default_rng(20261201)


def normalised(rates):
    return rates.null / rates.null.sum(), rates.alternative / rates.alternative.sum(), rates.log_ratio


# --------------------------------------------------------------------------------------
# PHYSICS.md §6.2: equal split, sources at ±d/2
# --------------------------------------------------------------------------------------

# d/σ, ξ_bSPADE (Poisson), ξ_SLIVER, ξ_DI (Poisson), ξ_DI (fixed N)   [D]
TABLE_6_2 = [
    (0.1, 6.24805e-4, 6.2461e-4, 3.8965e-7, 3.8965e-7),
    (0.5, 1.55036e-2, 1.53834e-2, 2.3029e-4, 2.3032e-4),
    (1.0, 6.05869e-2, 5.87515e-2, 3.1954e-3, 3.2005e-3),
    (2.0, 0.221199, 0.196735, 3.5123e-2, 3.5754e-2),
]


@pytest.mark.parametrize("d, spade, sliver, direct_poisson, direct_fixed", TABLE_6_2)
def test_one_vs_two_table_lu2018(d, spade, sliver, direct_poisson, direct_fixed):
    Q = d**2 / (16 * SIGMA**2)
    # binary SPADE from its outcome rates equals the Poisson QCB 1 - e^{-Q} (brief: within 1e-6)
    bspade = hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(d, 0.5, SIGMA)).exponent
    assert bspade == pytest.approx(-np.expm1(-Q), rel=1e-12, abs=1e-6)
    assert hyp.binary_spade_exponent(d) == pytest.approx(-np.expm1(-Q), rel=1e-14)
    # table values are printed to 6 digits: rounding half-unit of the last digit
    assert bspade == pytest.approx(spade, rel=1e-5)
    sl = hyp.poisson_chernoff_exponent(*hyp.sliver_rates(d)).exponent
    assert sl == pytest.approx(-np.expm1(-(d**2) / (8 * SIGMA**2)) / 2, rel=1e-12)
    assert sl == pytest.approx(sliver, rel=1e-5)
    # direct imaging: quadrature over the continuum (5 printed digits -> rel 5e-5)
    rates = hyp.direct_imaging_rates(d, 0.5, SIGMA)
    assert hyp.poisson_chernoff_exponent(*rates).exponent == pytest.approx(direct_poisson, rel=5e-5)
    assert hyp.chernoff_exponent(*normalised(rates)).exponent == pytest.approx(direct_fixed, rel=5e-5)


@pytest.mark.parametrize("d", [0.01, 0.1, 0.5, 1.0, 2.0])
def test_quantum_chernoff_of_weak_source_states_lu2018(d):
    """Fixed photon number: QCB = -ln<psi0|rho1|psi0> = Q (PHYSICS 6.2: to 1e-11); Poisson: 1 - e^{-Q}."""
    rho0, rho1 = hyp.weak_source_states(d, 0.5, SIGMA)
    Q = d**2 / (16 * SIGMA**2)
    bound = hyp.quantum_chernoff_exponent(rho0, rho1)
    assert bound.exponent == pytest.approx(Q, rel=1e-9, abs=1e-11)
    assert bound.s < 1e-6  # pure rho0: the minimum is the s -> 0 limit
    vacuum_overlap = np.trace(rho0 @ rho1)  # <psi0|rho1|psi0>: the weak-source QCB is 1 - this = 1 - e^-Q
    np.testing.assert_allclose(np.real(1 - vacuum_overlap), -np.expm1(-Q), rtol=1e-8, atol=1e-15)
    assert hyp.fixed_photon_number_exponent(d) == pytest.approx(Q, rel=1e-13)


def test_direct_imaging_quartic_at_small_separation_lu2018():
    """ξ_DI ≈ d^4/(256 σ^4): relative correction O(d^2) (≈ 2.5e-5 at d = 0.01)."""
    for d in (0.01, 0.03):
        xi = hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d)).exponent
        assert xi / (d**4 / 256) == pytest.approx(1.0, abs=0.3 * d**2)


def test_camera_with_fine_pixels_matches_continuum_and_coarse_pixels_lose():
    d = 1.0
    continuum = hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d)).exponent
    fine = hyp.camera_rates(d, edges=np.linspace(-12, 12, 97))  # pixels 0.25 σ
    # pixel integration loses information: fine pixels are within the O(pitch^2) binning loss
    assert hyp.poisson_chernoff_exponent(*fine).exponent <= continuum
    assert hyp.poisson_chernoff_exponent(*fine).exponent == pytest.approx(continuum, rel=1e-2)
    coarse = hyp.camera_rates(d, edges=[-12, -0.5, 0.5, 12])
    assert hyp.poisson_chernoff_exponent(*coarse).exponent < hyp.poisson_chernoff_exponent(*fine).exponent


# --------------------------------------------------------------------------------------
# PHYSICS.md §6.3: faint companion, centroid fixed
# --------------------------------------------------------------------------------------

# d, e, ξ_SPADE exact, ξ_DI numeric   [D, 4 printed digits]
TABLE_6_3 = [(0.5, 0.01, 6.004e-4, 4.139e-7), (0.5, 0.1, 5.499e-3, 3.247e-5), (0.2, 0.001, 9.94e-6, 1.011e-10)]


@pytest.mark.parametrize("d, e, spade, direct", TABLE_6_3)
def test_faint_companion_table_huang_lupo(d, e, spade, direct):
    xi_spade = hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(d, e)).exponent
    assert xi_spade == pytest.approx(spade, rel=1e-3)
    assert xi_spade == pytest.approx(hyp.binary_spade_exponent(d, e), rel=1e-12)
    # the QCB: 1 - <psi0|rho1|psi0> from the states
    rho0, rho1 = hyp.weak_source_states(d, e)
    qcb_from_states = np.real(1 - np.trace(rho0 @ rho1))
    np.testing.assert_allclose(qcb_from_states, xi_spade, rtol=1e-7)
    xi_direct = hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d, e)).exponent
    assert xi_direct == pytest.approx(direct, rel=1e-3)


@pytest.mark.parametrize("d, e", [(0.01, 1e-10), (0.01, 1e-4), (0.05, 1e-6)])
def test_faint_companion_asymptotics_without_cancellation(d, e):
    """ξ_SPADE → e(1-e)d²/4σ², ξ_DI → e²(1-e)²d⁴/16σ⁴; relative corrections O(d²) and O(e)."""
    xi_spade = hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(d, e)).exponent
    assert xi_spade / (e * (1 - e) * d**2 / 4) == pytest.approx(1.0, abs=d**2 + 2 * e)
    xi_direct = hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d, e)).exponent
    assert xi_direct / (e**2 * (1 - e) ** 2 * d**4 / 16) == pytest.approx(1.0, abs=2 * d**2 + 4 * e)
    # SLIVER: e(1-e)d²/(2σ²)·½ at leading order
    xi_sliver = hyp.poisson_chernoff_exponent(*hyp.sliver_rates(d, e)).exponent
    assert xi_sliver / (e * (1 - e) * d**2 / 4) == pytest.approx(1.0, abs=d**2 + 2 * e)


def test_star_at_origin_variant_is_not_the_centroid_convention():
    """PHYSICS 6.3 quotes e(1-e^{-d²/4σ²}) for a star fixed at 0; the centroid convention gives less."""
    d, e = 0.5, 0.1
    star_fixed = e * -np.expm1(-(d**2) / 4)
    assert hyp.binary_spade_exponent(d, e) < star_fixed


# --------------------------------------------------------------------------------------
# Detector parameters
# --------------------------------------------------------------------------------------


def test_full_spade_equals_binary_spade_and_efficiency_scales_poisson_exponent():
    d = 0.7
    binary = hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(d)).exponent
    full = hyp.poisson_chernoff_exponent(*hyp.spade_rates(d, orders=10)).exponent
    assert full == pytest.approx(binary, rel=1e-12)
    for detector in (hyp.binary_spade_rates, hyp.sliver_rates, hyp.spade_rates):
        lossy = hyp.poisson_chernoff_exponent(*detector(d, efficiency=0.3)).exponent
        assert lossy == pytest.approx(0.3 * hyp.poisson_chernoff_exponent(*detector(d)).exponent, rel=1e-10)
    dark = [hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(d, dark_counts=b)).exponent for b in (0, 1e-4, 1e-2)]
    assert dark[0] > dark[1] > dark[2] > 0
    # binary SPADE with dark counts b: the rest outcome is Poisson b vs b + r; closed form
    r = hyp.binary_spade_exponent(d)
    b = 1e-2
    direct = hyp.poisson_chernoff_exponent(np.array([1 + b, b]), np.array([1 - r + b, r + b])).exponent
    assert dark[2] == pytest.approx(direct, rel=1e-9)
    dark_imaging = hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d, dark_density=0.05)).exponent
    assert 0 < dark_imaging < hyp.poisson_chernoff_exponent(*hyp.direct_imaging_rates(d)).exponent


def test_zero_separation_gives_zero_exponent_and_error_one_half():
    for detector in (hyp.binary_spade_rates, hyp.sliver_rates, hyp.spade_rates, hyp.direct_imaging_rates, hyp.camera_rates):
        assert hyp.poisson_chernoff_exponent(*detector(0.0)).exponent == 0.0
    rho0, rho1 = hyp.weak_source_states(0.0)
    assert rho0.shape == (1, 1)
    assert hyp.quantum_chernoff_exponent(rho0, rho1).exponent == pytest.approx(0.0, abs=1e-15)
    assert hyp.helstrom_error(rho0, rho1, copies=8) == pytest.approx(0.5, abs=1e-14)
    corr = hyp.two_source_photon_correlation(0.0, 0.3, 0.1)
    assert hyp.thermal_chernoff_exponent(*corr).exponent == pytest.approx(0.0, abs=1e-15)
    assert hyp.thermal_relative_entropy(*corr) == pytest.approx(0.0, abs=1e-14)


# --------------------------------------------------------------------------------------
# Classical discrimination
# --------------------------------------------------------------------------------------


def test_chernoff_exponent_against_brute_force_grid(rng):
    p0 = rng.dirichlet(np.ones(5), size=4)
    p1 = rng.dirichlet(np.ones(5), size=4)
    bound = hyp.chernoff_exponent(p0, p1)
    s = np.linspace(0, 1, 20001)[:, None, None]
    grid = -np.log((p0**s * p1 ** (1 - s)).sum(axis=-1).min(axis=0))
    assert bound.exponent.shape == (4,)
    np.testing.assert_allclose(bound.exponent, grid, rtol=1e-7)
    np.testing.assert_allclose(hyp.relative_entropy(p0, p1), entropy(p0.T, p1.T), rtol=1e-12)


def test_chernoff_between_bhattacharyya_and_relative_entropies(rng):
    """-ln Σ√(p0 p1) <= ξ_C <= min(D(p0‖p1), D(p1‖p0)) (s = ½ and s -> 0, 1 bounds)."""
    p0 = rng.dirichlet(np.full(4, 0.7), size=30)
    p1 = rng.dirichlet(np.full(4, 0.7), size=30)
    xi = hyp.chernoff_exponent(p0, p1).exponent
    bhattacharyya = -np.log(np.sqrt(p0 * p1).sum(axis=-1))
    assert np.all(bhattacharyya <= xi * (1 + 1e-12))
    assert np.all(xi <= np.minimum(hyp.relative_entropy(p0, p1), hyp.relative_entropy(p1, p0)) * (1 + 1e-12))
    # Poisson form for normalised inputs: ξ_Poisson = 1 - e^{-ξ_C}
    np.testing.assert_allclose(hyp.poisson_chernoff_exponent(p0, p1).exponent, -np.expm1(-xi), rtol=1e-12)


def test_chernoff_edge_cases():
    p = np.array([0.2, 0.0, 0.8])
    assert hyp.chernoff_exponent(p, p).exponent == 0.0
    assert hyp.chernoff_exponent(p, p).s == 0.5
    assert hyp.relative_entropy(p, p) == 0.0
    assert hyp.chernoff_exponent([1.0, 0.0], [0.0, 1.0]).exponent == np.inf
    assert hyp.relative_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert np.isfinite(hyp.relative_entropy([1.0, 0.0], [0.5, 0.5]))
    # a zero in p0 only: s -> 0 limit is sum over supp p0 of p1
    bound = hyp.chernoff_exponent([1.0, 0.0], [0.7, 0.3])
    assert bound.exponent == pytest.approx(-np.log(0.7), rel=1e-12)
    assert hyp.bayes_error(p, p, 7) == pytest.approx(0.5, rel=1e-12)


def test_exact_bayes_error_matches_monte_carlo_of_the_likelihood_ratio_test(rng):
    """Three-pixel camera at d = 2σ, N = 20 photons; 4 standard errors."""
    p0, p1, _ = normalised(hyp.camera_rates(2.0, edges=[-12, -0.5, 0.5, 12]))
    copies, trials = 20, 20000
    exact = hyp.bayes_error(p0, p1, copies)
    llr = np.log(p1 / p0)
    wrong0 = (rng.multinomial(copies, p0, size=trials) @ llr > 0).mean()
    wrong1 = (rng.multinomial(copies, p1, size=trials) @ llr <= 0).mean()
    estimate = 0.5 * (wrong0 + wrong1)
    standard_error = 0.5 * np.sqrt(wrong0 * (1 - wrong0) / trials + wrong1 * (1 - wrong1) / trials)
    assert abs(estimate - exact) < 4 * standard_error


def test_exact_bayes_error_decays_with_the_chernoff_exponent():
    """P_e ≈ C N^{-1/2} e^{-Nξ}: the prefactor-corrected slope → ξ with an O(1/N) remainder."""
    p0, p1, _ = normalised(hyp.camera_rates(2.0, edges=[-12, -0.5, 0.5, 12]))
    xi = hyp.chernoff_exponent(p0, p1).exponent
    errors = {n: hyp.bayes_error(p0, p1, n) for n in (200, 400, 800)}
    deviations = []
    for a, b in ((200, 400), (400, 800)):
        slope = -(np.log(errors[b]) - np.log(errors[a])) / (b - a) - 0.5 * np.log(b / a) / (b - a)
        deviations.append(abs(slope / xi - 1))
    assert deviations[1] < deviations[0] and deviations[1] < 0.02
    assert all(errors[a] > errors[b] for a, b in ((200, 400), (400, 800)))


def test_neyman_pearson_miss_exact_on_binary_counts():
    """Independent NP construction on a Binomial count (monotone likelihood ratio)."""
    p0, p1, copies, alpha = 0.2, 0.45, 12, 0.07
    k = np.arange(copies + 1)
    f0, f1 = binom.pmf(k, copies, p0), binom.pmf(k, copies, p1)
    # reject H0 for large k: find the boundary count c with P0(k > c) <= alpha < P0(k >= c)
    tail = np.cumsum(f0[::-1])[::-1]  # P0(k >= j)
    c = int(np.argmax(tail <= alpha)) - 1
    gamma = (alpha - tail[c + 1]) / f0[c]
    expected_miss = f1[:c].sum() + (1 - gamma) * f1[c]
    miss = hyp.neyman_pearson_miss([1 - p0, p0], [1 - p1, p1], copies, alpha)
    assert miss == pytest.approx(expected_miss, rel=1e-10)
    assert hyp.neyman_pearson_miss([1 - p0, p0], [1 - p1, p1], copies, 1.0) == 0.0


def test_neyman_pearson_miss_follows_stein_exponent():
    """-ln β ≈ N D + √(N V) Φ⁻¹(α) + ½ ln N (second-order Stein); the corrected slope → D."""
    p0, p1, _ = normalised(hyp.camera_rates(2.0, edges=[-12, -0.5, 0.5, 12]))
    alpha = 0.05
    D = hyp.relative_entropy(p0, p1)
    V = np.sum(p0 * np.log(p0 / p1) ** 2) - D**2
    misses = {n: hyp.neyman_pearson_miss(p0, p1, n, alpha) for n in (400, 800)}
    slope = -(np.log(misses[800]) - np.log(misses[400])) / 400
    corrected = slope - np.sqrt(V) * norm.ppf(alpha) * (np.sqrt(800) - np.sqrt(400)) / 400 - 0.5 * np.log(2) / 400
    assert slope < D
    assert corrected == pytest.approx(D, rel=0.03)
    # a stricter false-alarm rate costs power
    assert hyp.neyman_pearson_miss(p0, p1, 400, alpha) < hyp.neyman_pearson_miss(p0, p1, 400, alpha / 2)


def test_poisson_count_bayes_error_of_binary_spade():
    """H0 never clicks outside HG0: P_e = ½ e^{-Nξ} exactly (Lu et al. 2018)."""
    xi = hyp.binary_spade_exponent(0.5)
    photons = np.array([10.0, 100.0, 1000.0])
    np.testing.assert_allclose(hyp.poisson_count_bayes_error(0.0, photons * xi), 0.5 * np.exp(-photons * xi), rtol=1e-12)
    assert hyp.poisson_count_bayes_error(3.0, 3.0) == pytest.approx(0.5, abs=1e-15)


# --------------------------------------------------------------------------------------
# Quantum limits
# --------------------------------------------------------------------------------------


def random_density_matrix(rng, dim, rank):
    g = rng.normal(size=(dim, rank)) + 1j * rng.normal(size=(dim, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def test_helstrom_one_copy_equals_direct_eigenvalues(rng):
    for dim, rank in ((2, 2), (3, 1), (4, 2)):
        rho0, rho1 = random_density_matrix(rng, dim, rank), random_density_matrix(rng, dim, dim)
        prior = 0.3
        lam = np.linalg.eigvals(prior * rho0 - (1 - prior) * rho1)  # general eigensolver
        expected = 0.5 * (1 - np.abs(lam).sum())
        assert hyp.helstrom_error(rho0, rho1, 1, prior) == pytest.approx(expected, abs=1e-13)


def test_helstrom_below_binary_spade_and_decreasing_in_copies():
    d = 1.0
    rho0, rho1 = hyp.weak_source_states(d)
    r = hyp.binary_spade_exponent(d)  # fixed-N binary SPADE: P(rest) = r under H1, 0 under H0
    # pure null: Fuchs-van de Graaf lower bound with fidelity <psi0|rho1|psi0>^k
    fidelity = np.trace(rho0 @ rho1).real
    previous = 0.5
    for k in (1, 2, 4, 8, 16):
        helstrom = hyp.helstrom_error(rho0, rho1, k)
        spade = hyp.bayes_error([1.0, 0.0], [1 - r, r], k)
        assert spade == pytest.approx(0.5 * (1 - r) ** k, rel=1e-12)
        assert helstrom <= spade
        assert helstrom < previous
        assert helstrom >= 0.5 * (1 - np.sqrt(1 - fidelity**k)) - 1e-15
        previous = helstrom
    # secular-equation route (pure null, any k) agrees with the full tensor power
    for k in (3, 5):
        assert hyp.helstrom_error(rho0, rho1, k, max_dimension=1) == pytest.approx(
            hyp.helstrom_error(rho0, rho1, k, max_dimension=4096), abs=1e-13)


def test_helstrom_mixed_states_tensor_power(rng):
    rho0, rho1 = random_density_matrix(rng, 2, 2), random_density_matrix(rng, 2, 2)
    errors = [hyp.helstrom_error(rho0, rho1, k) for k in (1, 2, 4, 8)]
    assert np.all(np.diff(errors) < 0)
    xi = hyp.quantum_chernoff_exponent(rho0, rho1).exponent
    # Audenaert et al.: P_e(k) <= ½ exp(-k ξ_Q)
    assert all(e <= 0.5 * np.exp(-k * xi) + 1e-15 for e, k in zip(errors, (1, 2, 4, 8)))
    with pytest.raises(ValueError, match="max_dimension"):
        hyp.helstrom_error(rho0, rho1, 12, max_dimension=256)


def test_quantum_relative_entropy_and_chernoff_commuting_case():
    p0, p1 = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.5, 0.3])
    assert hyp.quantum_relative_entropy(np.diag(p0), np.diag(p1)) == pytest.approx(entropy(p0, p1), rel=1e-12)
    assert hyp.quantum_chernoff_exponent(np.diag(p0), np.diag(p1)).exponent == pytest.approx(
        hyp.chernoff_exponent(p0, p1).exponent, rel=1e-9)
    rho0, rho1 = hyp.weak_source_states(0.5)
    assert hyp.quantum_relative_entropy(rho0, rho1) == np.inf  # psi0 is outside span{psi_star, psi_planet}
    assert hyp.quantum_relative_entropy(rho1, rho1) == pytest.approx(0.0, abs=1e-13)


# --------------------------------------------------------------------------------------
# Exact thermal state
# --------------------------------------------------------------------------------------


def test_thermal_chernoff_single_mode_against_fock_sum():
    """tr ρ0^s ρ1^{1-s} of two single-mode thermal states is a sum over Fock states."""
    n0, n1 = 0.3, 0.05
    n = np.arange(200)  # p1 stays above the double-precision underflow
    p0, p1 = n0**n / (1 + n0) ** (n + 1), n1**n / (1 + n1) ** (n + 1)
    assert hyp.thermal_chernoff_exponent([[n0]], [[n1]]).exponent == pytest.approx(
        hyp.chernoff_exponent(p0, p1).exponent, rel=1e-9)
    assert hyp.thermal_relative_entropy([[n0]], [[n1]]) == pytest.approx(entropy(p0, p1), rel=1e-10)


def test_thermal_relative_entropy_against_fock_two_modes(rng):
    g0 = rng.normal(size=(2, 2)) * 0.15
    g1 = rng.normal(size=(2, 2)) * 0.15
    corr0, corr1 = g0 @ g0.T + 0.01 * np.eye(2), g1 @ g1.T + 0.02 * np.eye(2)
    blocks, tail = hyp.thermal_density_matrices(corr0, corr1, max_photons=12)
    from scipy.linalg import block_diag

    rho0 = block_diag(*[b.null for b in blocks])
    rho1 = block_diag(*[b.alternative for b in blocks])
    # truncation: the tails (< 1e-8 here) bound the error of both quantities
    assert max(tail) < 1e-8
    assert hyp.thermal_relative_entropy(corr0, corr1) == pytest.approx(
        hyp.quantum_relative_entropy(rho0, rho1), abs=1e-6)
    assert hyp.thermal_chernoff_exponent(corr0, corr1).exponent == pytest.approx(
        hyp.quantum_chernoff_exponent(rho0, rho1).exponent, abs=1e-6)


@pytest.mark.parametrize("photons_per_copy", [0.1, 0.03])
def test_thermal_chernoff_gaussian_formula_matches_fock_within_truncation(photons_per_copy):
    corr = hyp.two_source_photon_correlation(1.0, 0.5, photons_per_copy)
    gaussian = hyp.thermal_chernoff_exponent(*corr).exponent
    fock = hyp.thermal_chernoff_exponent_fock(*corr, max_photons=4)
    # |Δ tr| <= tail, so |Δξ| <= tail / tr ~ tail / (1 - ξ)
    assert abs(gaussian - fock.exponent) <= 1.1 * fock.truncation_error / (1 - gaussian) + 1e-14


def test_thermal_chernoff_tends_to_weak_source_formula_times_photons():
    """ξ(ε) = ε (1 - e^{-Q}) + c ε² + O(ε³): the O(ε²) coefficient is the same at ε = 1e-2 and 2e-3."""
    d = 1.0
    weak = hyp.binary_spade_exponent(d)
    coefficients = []
    for eps in (1e-2, 2e-3):
        xi = hyp.thermal_chernoff_exponent(*hyp.two_source_photon_correlation(d, 0.5, eps)).exponent
        # blocks of >= 2 photons and the vacuum-weight mismatch are O(ε²) with coefficients < 2
        assert abs(xi - eps * weak) <= 2 * eps**2
        coefficients.append((xi - eps * weak) / eps**2)
    # the O(ε³) remainder changes the coefficient by O(ε) (5 % allows |c3/c2| < 5 at ε = 1e-2)
    assert coefficients[0] == pytest.approx(coefficients[1], rel=0.05)
    # faint companion: the same limit with e = 1e-3
    e, eps = 1e-3, 1e-3
    xi = hyp.thermal_chernoff_exponent(*hyp.two_source_photon_correlation(0.5, e, eps)).exponent
    assert xi == pytest.approx(eps * hyp.binary_spade_exponent(0.5, e), rel=5 * eps)


def test_thermal_relative_entropy_infinite_one_vs_two():
    corr = hyp.two_source_photon_correlation(0.5, 0.5, 0.01)
    assert hyp.thermal_relative_entropy(*corr) == np.inf
    assert hyp.thermal_relative_entropy(corr.alternative, corr.null) == np.inf


def test_thermal_helstrom_below_per_copy_spade_and_decreasing():
    """k stored copies: Helstrom <= binary SPADE on each copy (½ P1(no photon outside HG0)^k)."""
    eps, d = 0.01, 1.0
    corr = hyp.two_source_photon_correlation(d, 0.5, eps)
    outside = corr.alternative[1:, 1:]  # HG orders >= 1
    dark_probability = 1.0 / np.linalg.det(np.eye(len(outside)) + outside)  # thermal vacuum probability
    previous = 0.5
    for k in (1, 2, 4, 8):
        helstrom = hyp.thermal_helstrom_error(*corr, copies=k)
        spade = hyp.bayes_error([1.0, 0.0], [dark_probability, 1 - dark_probability], k)
        assert helstrom.error_probability - helstrom.truncation_error <= spade
        assert helstrom.error_probability < previous
        previous = helstrom.error_probability
    # k = 1 agrees with the direct sum of the Fock blocks
    blocks, tail = hyp.thermal_density_matrices(*corr, max_photons=4)
    from scipy.linalg import block_diag

    rho0 = block_diag(*[b.null for b in blocks])
    rho1 = block_diag(*[b.alternative for b in blocks])
    one = hyp.thermal_helstrom_error(*corr, copies=1)
    direct = 0.5 * (1 - np.abs(np.linalg.eigvalsh(0.5 * rho0 - 0.5 * rho1)).sum())
    assert one.error_probability == pytest.approx(direct, abs=one.truncation_error + max(tail))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="relative_brightness"):
        hyp.binary_spade_rates(1.0, 1.5)
    with pytest.raises(ValueError, match="separation"):
        hyp.sliver_rates(-1.0)
    with pytest.raises(ValueError, match="efficiency"):
        hyp.binary_spade_rates(1.0, efficiency=0.0)
    with pytest.raises(ValueError, match="prior"):
        hyp.bayes_error([0.5, 0.5], [0.4, 0.6], 3, prior=1.0)
    with pytest.raises(ValueError, match="non-negative"):
        hyp.chernoff_exponent([-0.1, 1.1], [0.5, 0.5])


def test_detector_rates_and_exponents_are_batched():
    separations = np.array([[0.1, 0.5], [1.0, 2.0]])
    brightness = np.array([0.5, 0.01])
    batched = hyp.poisson_chernoff_exponent(*hyp.sliver_rates(separations, brightness)).exponent
    assert batched.shape == (2, 2)
    for idx in np.ndindex(2, 2):
        single = hyp.poisson_chernoff_exponent(*hyp.sliver_rates(separations[idx], brightness[idx[1]])).exponent
        assert batched[idx] == pytest.approx(single, rel=1e-12)
    np.testing.assert_allclose(
        hyp.poisson_chernoff_exponent(*hyp.binary_spade_rates(separations, brightness)).exponent,
        hyp.binary_spade_exponent(separations, brightness), rtol=1e-12)
