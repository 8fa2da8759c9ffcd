"""Photon-counting detectors on the two-point scene against closed forms (PHYSICS.md sections 2, 7)
and against photon-number probabilities computed independently with thewalrus."""

import functools
import itertools
from math import factorial

import numpy as np
import pytest
from scipy.stats import chi2

from sensing.detectors.mode_sorting import crosstalk_unitary
from sensing.analyzers.fisher import detector_fisher_information, quantum_fisher_information
from sensing.sf_compat import import_strawberryfields
from tests.helpers import make_detector, make_scene

SIGMA = 1.0


def fisher_per_photon(detector, separation, eps=1e-4, **scene):
    s = make_scene(separation=separation, photons_per_copy=eps, psf_sigma=SIGMA, **scene)
    return detector_fisher_information(s, detector, ["separation"])[0, 0] / eps


@pytest.mark.parametrize("separation", [0.05, 0.1, 0.25, 0.5, 0.75, 1.0])
def test_spade_reaches_quantum_limit_tsang2016(separation):
    """Ideal SPADE: 1/(4 sigma^2) per photon within 2% from 0.05 sigma to 1 sigma."""
    spade = make_detector(kind="spade", modes=10)
    assert fisher_per_photon(spade, separation, eps=5e-3) == pytest.approx(1 / (4 * SIGMA**2), rel=0.02)


@pytest.mark.parametrize("separation,expected", [(0.1, 0.249922), (0.5, 0.248052), (1.0, 0.242269), (2.0, 0.220051)])
def test_binary_spade_matches_closed_form(separation, expected):
    """HG0 versus the rest: J = (1/4s^2) Q e^-Q / (1 - e^-Q), Q = d^2/16s^2 (PHYSICS.md 2.3)."""
    binary = make_detector(kind="spade", modes=1)
    assert fisher_per_photon(binary, separation) == pytest.approx(expected, rel=3e-4)


FINE_CAMERA = dict(kind="camera", pixel_pitch=0.02, pixels=800)


@pytest.mark.parametrize("separation,ratio", [(0.5, 0.11153), (1.0, 0.34326), (2.0, 0.73391), (4.0, 0.97834)])
def test_camera_information_against_quantum_limit(separation, ratio):
    """J_direct / QFI at d/sigma = 0.5, 1, 2, 4 (PHYSICS.md 2.3): tends to the limit for d >> sigma."""
    camera = make_detector(**FINE_CAMERA)
    assert fisher_per_photon(camera, separation) / 0.25 == pytest.approx(ratio, rel=2e-3)


def test_camera_rayleigh_curse():
    """J_direct -> d^2/(8 sigma^4) as d -> 0: per photon 1.24379e-3 at d = 0.1 sigma, and the ratio to d^2/8 -> 1."""
    camera = make_detector(**FINE_CAMERA)
    assert fisher_per_photon(camera, 0.1) == pytest.approx(1.24379e-3, rel=1e-3)
    ratios = [fisher_per_photon(camera, d) / (d**2 / 8) for d in (0.2, 0.05, 0.01)]
    assert ratios[0] < ratios[1] < ratios[2] <= 1.0 + 1e-3
    assert ratios[2] == pytest.approx(1.0, abs=2e-3)


def test_efficiency_scales_information_and_dark_counts_reduce_it():
    ideal = fisher_per_photon(make_detector(kind="spade", modes=6), 0.3, eps=1e-3)
    lossy = fisher_per_photon(make_detector(kind="spade", modes=6, efficiency=0.7), 0.3, eps=1e-3)
    noisy = fisher_per_photon(make_detector(kind="spade", modes=6, dark_counts=1e-5), 0.3, eps=1e-3)
    assert lossy == pytest.approx(0.7 * ideal, rel=1e-3)
    assert noisy < 0.5 * ideal  # dark counts bury the weak HG1 signal at small separation


def test_crosstalk_lowers_spade_information_at_small_separation():
    clean = fisher_per_photon(make_detector(kind="spade", modes=6), 0.1, eps=1e-3)
    leaky = fisher_per_photon(make_detector(kind="spade", modes=6, crosstalk=0.01), 0.1, eps=1e-3)
    assert leaky < 0.5 * clean
    u = crosstalk_unitary(5, 0.01)
    np.testing.assert_allclose(u.conj().T @ u, np.eye(5), atol=1e-12)
    assert abs(u[1, 0]) ** 2 == pytest.approx(0.01, rel=0.05)


def test_quantum_fisher_is_an_upper_bound():
    scene = make_scene(separation=0.7, centroid=0.1, relative_brightness=0.35, photons_per_copy=1e-3)
    names = ["separation", "centroid", "relative_brightness"]
    qfi = quantum_fisher_information(scene, names)
    for kind in ({"kind": "spade", "modes": 8}, FINE_CAMERA):
        fim = detector_fisher_information(scene, make_detector(**kind), names)
        # finite-difference derivatives (step 1e-4 sigma) leave ~1e-8 relative noise
        assert np.all(np.linalg.eigvalsh(qfi - fim) > -1e-7 * np.abs(qfi).max())


# -- samplers against independent photon-number probabilities --------------------------------------
def chi_square_p_value(observed: np.ndarray, probabilities: np.ndarray, copies: int, min_expected: float = 5.0):
    """Pearson chi-square, pooling the cells expected below ``min_expected`` into one."""
    expected = probabilities * copies
    small = expected < min_expected
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    stat = ((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()
    return chi2.sf(stat, keep.sum() - 1)


def single_thermal_mode_p_value(model, mean: float, pixel_probabilities: np.ndarray, rng, copies: int = 100_000) -> float:
    """Chi-square p-value of a model's per-copy count patterns against one thermal mode: the
    total detected photons are Bose-Einstein with mean ``mean`` and split multinomially over the
    outputs with ``pixel_probabilities`` (patterns of up to 11 photons, the rest pooled)."""
    q = np.asarray(pixel_probabilities)
    keys, probs = [], []
    for total in range(12):
        be = mean**total / (1 + mean) ** (total + 1)
        for n in itertools.product(range(total + 1), repeat=q.size):
            if sum(n) == total:
                multinomial = factorial(total) / np.prod([factorial(x) for x in n]) * np.prod(q ** np.array(n))
                keys.append(n)
                probs.append(be * multinomial)
    probs.append(1 - sum(probs))
    outcomes = model.sample(rng, copies)
    index = {k: i for i, k in enumerate(keys)}
    observed = np.zeros(len(probs))
    for row, count in zip(*np.unique(outcomes, axis=0, return_counts=True)):
        observed[index.get(tuple(row), len(keys))] += count
    return chi_square_p_value(observed, np.array(probs), copies)


def sorter_state_in_sf(scene, modes, crosstalk, efficiency):
    """The scene's SF program followed by the sorter's crosstalk interferometer and loss, in SF."""
    sf = import_strawberryfields()
    prog = scene.program()
    k = scene.modes.count
    u = np.eye(k, dtype=complex)
    u[:modes, :modes] = crosstalk_unitary(modes, crosstalk)
    with prog.context as q:
        sf.ops.Interferometer(u) | q
        for i in range(k):
            sf.ops.LossChannel(efficiency) | q[i]
    state = sf.Engine("gaussian").run(prog).state
    return np.asarray(state.means()), np.asarray(state.cov())


SORTER = dict(kind="spade", modes=2, crosstalk=0.08, efficiency=0.85)
SCENE = dict(separation=1.4, centroid=0.2, relative_brightness=0.35, photons_per_copy=0.8, basis_modes=4)
# Fock patterns of up to MAX_TOTAL detected photons are computed with thewalrus; all heavier
# ones share the tail cell, whose probability 1 - sum is exact (1.3e-3 here). At 4e5 copies
# the chi-square keeps 38 merged cells expected >= 5 times, plus the tail; the old version
# (every pattern with n_i < 7, 2401 hafnians, 1e5 copies) kept 32 cells plus its tail. So the
# check has more cells and four times the copies: a relative deviation r in a cell of
# probability p is an r sqrt(4e5 p) sigma effect instead of r sqrt(1e5 p).
MAX_TOTAL = 6
SAMPLER_COPIES = 400_000


@functools.lru_cache(maxsize=None)
def sorter_moments():
    """SF means and covariance of SCENE after the SORTER's crosstalk and loss (shared by the sampler checks)."""
    return sorter_state_in_sf(make_scene(**SCENE), SORTER["modes"], SORTER["crosstalk"], SORTER["efficiency"])


def fock_probabilities(means, cov, max_total):
    """thewalrus photon-number probabilities of every pattern with at most ``max_total`` photons,
    as an array of shape ``(max_total + 1,) * modes`` (zero where the total exceeds ``max_total``)."""
    from thewalrus.quantum import density_matrix_element

    modes = len(means) // 2
    table = np.zeros((max_total + 1,) * modes)
    for n in itertools.product(range(max_total + 1), repeat=modes):
        if sum(n) <= max_total:
            table[n] = max(0.0, density_matrix_element(means, cov, list(n), list(n)).real)
    return table


def merge_bucket(table):
    """Probabilities of (n_HG0, n_HG1, n_bucket): the sorted modes 0, 1 and the sum of the rest."""
    *_, last = table.shape
    merged = np.zeros(table.shape[:2] + (last + (table.ndim - 3) * (last - 1),))
    n0, n1, *rest = np.indices(table.shape)
    np.add.at(merged, (n0.ravel(), n1.ravel(), sum(rest).ravel()), table.ravel())
    return merged


def observed_cells(outcomes, shape, max_total=None):
    """Counts of outcome rows in the cells of an array of ``shape``, plus one tail cell for rows
    outside it (or with more than ``max_total`` photons in all)."""
    outcomes = np.asarray(outcomes)
    inside = np.all(outcomes < np.array(shape), axis=1)
    if max_total is not None:
        inside &= outcomes.sum(axis=1) <= max_total
    flat = np.ravel_multi_index(outcomes[inside].T, shape)
    return np.append(np.bincount(flat, minlength=int(np.prod(shape))), (~inside).sum())


def test_spade_number_resolving_sampler_matches_thewalrus():
    """Joint counts (HG0, HG1, bucket) per copy: chi-square against thewalrus Fock probabilities (p > 1e-3, seed fixed)."""
    scene = make_scene(**SCENE)
    means, cov = sorter_moments()
    table = merge_bucket(fock_probabilities(means, cov, MAX_TOTAL))
    probs = np.append(table.ravel(), max(0.0, 1 - table.sum()))
    outcomes = make_detector(**SORTER).outcome_model(scene.state()).sample(np.random.default_rng(11), SAMPLER_COPIES)
    observed = observed_cells(outcomes, table.shape, MAX_TOTAL)
    assert observed.sum() == SAMPLER_COPIES
    assert chi_square_p_value(observed, probs, SAMPLER_COPIES) > 1e-3


def test_spade_threshold_sampler_matches_thewalrus_click_probabilities():
    """Click patterns (HG0, HG1, bucket) against exact click probabilities from thewalrus: the
    vacuum probabilities of every set of modes (marginal states), combined by inclusion-exclusion
    over the clicking modes (the torontonian's definition, without its JIT-compiled kernel):
    P(clicks exactly on C) = sum over T in C of (-1)^|T| P(no photon in (not C) + T)."""
    from thewalrus.quantum import density_matrix_element, reduced_gaussian

    means, cov = sorter_moments()
    modes = len(means) // 2

    def no_photons(subset):
        if not subset:
            return 1.0
        mu, sigma = reduced_gaussian(means, cov, list(subset))
        return float(density_matrix_element(mu, sigma, [0] * len(subset), [0] * len(subset)).real)

    pattern_probabilities = np.zeros((2,) * modes)
    for clicks in itertools.product((0, 1), repeat=modes):
        dark = [m for m in range(modes) if not clicks[m]]
        clicking = [m for m in range(modes) if clicks[m]]
        pattern_probabilities[clicks] = sum(
            (-1) ** size * no_photons(sorted(dark + list(subset)))
            for size in range(len(clicking) + 1)
            for subset in itertools.combinations(clicking, size)
        )
    probs = np.zeros((2, 2, 2))  # (HG0, HG1, bucket): the bucket clicks if mode 2 or 3 does
    for clicks, value in np.ndenumerate(pattern_probabilities):
        probs[clicks[0], clicks[1], max(clicks[2:])] += value
    assert probs.sum() == pytest.approx(1.0, abs=1e-12) and probs.min() > 0
    outcomes = make_detector(**SORTER, pixel_type="threshold").outcome_model(make_scene(**SCENE).state()).sample(
        np.random.default_rng(12), SAMPLER_COPIES)
    observed = observed_cells(outcomes, probs.shape)
    assert observed[-1] == 0
    assert chi_square_p_value(observed[:-1], probs.ravel(), SAMPLER_COPIES) > 1e-3


def test_camera_sampler_single_thermal_mode_bose_einstein_times_multinomial():
    """At zero separation the light is one thermal mode: total detected photons are Bose-Einstein
    and each photon lands in pixel k with probability p_k (closed form with the error function)."""
    from scipy.special import erf

    eps, eta, pitch = 0.9, 0.75, 0.7
    scene = make_scene(separation=0.0, photons_per_copy=eps)
    camera = make_detector(kind="camera", pixel_pitch=pitch, pixels=3, efficiency=eta)
    edges = pitch * (np.arange(4) - 1.5)
    cdf = 0.5 * (1 + erf(edges / np.sqrt(2)))
    p = np.diff(cdf)
    model = camera.outcome_model(scene.state())
    assert single_thermal_mode_p_value(model, eta * eps * p.sum(), p / p.sum(), np.random.default_rng(13)) > 1e-3


def test_wishart_totals_have_exact_thermal_moments():
    """Totals over many copies from the Wishart sampler: mean c*mu and variance c*C_kk (within 4.5 s.e.)."""
    scene = make_scene(separation=0.6, photons_per_copy=0.05)
    model = make_detector(kind="spade", modes=3).outcome_model(scene.state())
    rng = np.random.default_rng(14)
    copies, repeats = 10_000, 2000
    totals = np.array([model.sample_statistics(rng, copies)["totals"] for _ in range(repeats)], dtype=float)
    mean, var = copies * model.mean(), copies * np.diag(model.covariance())
    z_mean = (totals.mean(0) - mean) / np.sqrt(var / repeats)
    assert np.all(np.abs(z_mean) < 4.5)
    # the variance of a sum of copies is c*C_kk exactly; the s.e. of a sample variance is
    # sqrt((m4 - var^2)/n), with the fourth central moment m4 taken from the sample (rare outputs are far from normal)
    centred = (totals - totals.mean(0)) ** 2
    z_var = (centred.mean(0) - var) / (centred.std(0) / np.sqrt(repeats))
    assert np.all(np.abs(z_var) < 4.5)


def test_fisher_information_agrees_with_exact_per_copy_fock_distribution():
    """The model's information (exact count moments) against the exact per-copy CFI of the full
    photon-number distribution from thewalrus: equal to first order in the light, i.e. within a
    few times photons_per_copy relative (the thermal bunching is second order)."""
    eps, h = 0.01, 1e-4
    settings = dict(separation=0.8, photons_per_copy=eps, basis_modes=4)
    detector = make_detector(kind="spade", modes=2)

    def pattern_probabilities(separation):
        # patterns of up to 4 photons (the old per-mode cutoff 5 also stopped at n_i = 4): the rest
        # carry probability ~eps^5 and a relative ~eps^4 = 1e-8 of the CFI, far below the 1e-6 margin
        means, cov = sorter_state_in_sf(make_scene(**{**settings, "separation": separation}), 2, 0.0, 1.0)
        return merge_bucket(fock_probabilities(means, cov, 4)).ravel()  # (n0, n1, n2 + n3): what the detector sees

    pp, pm, pc = (pattern_probabilities(0.8 + s) for s in (h, -h, 0.0))
    keep = pc > 1e-300
    exact = (((pp - pm) / (2 * h))[keep] ** 2 / pc[keep]).sum()
    model = detector_fisher_information(make_scene(**settings), detector, ["separation"])[0, 0]
    assert model <= exact * (1 + 1e-6)
    assert model == pytest.approx(exact, rel=3 * eps)


def test_camera_sampler_against_independent_source_amplitude_sampler():
    """Two sources on a 4-pixel camera: the framework's sampler (Hermite-Gauss basis, thermal
    eigenmodes, conditional draws) against a direct Mandel sampler written here in the sources'
    own amplitudes with erf pixel integrals. Two-sample chi-square on the count patterns (p > 1e-3)."""
    from scipy.special import erf
    from scipy.stats import chi2_contingency

    d, c, b, eps, eta, dark, pitch = 1.1, 0.15, 0.35, 0.7, 0.8, 0.03, 0.9
    scene = make_scene(separation=d, centroid=c, relative_brightness=b, photons_per_copy=eps, centroid_convention="midpoint")
    camera = make_detector(kind="camera", pixel_pitch=pitch, pixels=4, efficiency=eta, dark_counts=dark)
    copies = 60_000
    ours = camera.outcome_model(scene.state()).sample(np.random.default_rng(21), copies)

    rng = np.random.default_rng(22)
    positions, photons = np.array([c - d / 2, c + d / 2]), np.array([eps * (1 - b), eps * b])
    edges = pitch * (np.arange(5) - 2.0)
    phi = lambda x: 0.5 * (1 + erf(x / np.sqrt(2)))  # noqa: E731  (sigma = 1)
    mid = (positions[:, None] + positions[None, :]) / 2
    overlap = np.exp(-((positions[:, None] - positions[None, :]) ** 2) / 8)
    a = overlap[..., None] * (phi(edges[1:] - mid[..., None]) - phi(edges[:-1] - mid[..., None]))  # (2, 2, pixels)
    beta = np.sqrt(photons / 2) * (rng.standard_normal((copies, 2)) + 1j * rng.standard_normal((copies, 2)))
    intensity = np.einsum("cs,stk,ct->ck", beta.conj(), a, beta).real
    direct = rng.poisson(eta * intensity + dark)

    patterns = {}
    for label, sample in (("ours", ours), ("direct", direct)):
        rows, counts = np.unique(sample, axis=0, return_counts=True)
        for row, count in zip(map(tuple, rows), counts):
            patterns.setdefault(row, {"ours": 0, "direct": 0})[label] += count
    table = np.array([[v["ours"], v["direct"]] for v in patterns.values()])
    common = table.sum(axis=1) >= 10
    pooled = np.vstack([table[common], table[~common].sum(axis=0, keepdims=True)])
    assert chi2_contingency(pooled.T)[1] > 1e-3
