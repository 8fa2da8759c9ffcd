"""The fast samplers of issue 10, item 3: each draws what the statistic needs and keeps the numbers.

* Where the draws are unchanged (the displacement-channel samplers: the same random numbers in
  the same order), ``sample_statistics`` equals the per-copy ``reduce(sample())`` of the same
  generator to rounding (relative 1e-12).
* Where the draws changed (shadow counts drawn from the exact joint law of a copy in one
  multinomial), the counts match the model's exact mean and covariance (computed from the Pauli
  expectations, not from the table the sampler uses) within Z standard errors, fixed seeds.
* ``draws_per_copy`` counts what ``sample_statistics`` draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensing.contracts.detector import OutcomeModel
from sensing.physics import shadows as sh
from sensing.study.registry import DETECTORS
from sensing.testing import build_detector, build_scene, detector_case

Z = 4.5  # standard errors (fixed seeds; the largest of a few hundred entries)


def per_copy(model, rng, copies):
    """The contract's default: per-copy outcomes, reduced (what ``sample_statistics`` replaces)."""
    return OutcomeModel.sample_statistics(model, rng, copies)


# -- displacement-channel samplers: the same draws, the same numbers ------------------------------
CHANNEL_CASES = [("bell", 0), ("heterodyne", 0), ("homodyne", 0)]


@pytest.mark.parametrize("kind,case", CHANNEL_CASES)
@pytest.mark.parametrize("copies", [0, 1, 4097, 300_001])
def test_channel_sums_equal_the_per_copy_sampler_of_the_same_stream(kind, case, copies):
    _, _, model = detector_case(DETECTORS[kind], case)
    fast = model.sample_statistics(np.random.default_rng(31), copies)
    slow = per_copy(model, np.random.default_rng(31), copies)
    assert fast.keys() == slow.keys()
    assert int(fast["copies"]) == copies
    for key in ("char_sums_real", "char_sums_imag"):
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-12 * max(copies, 1), err_msg=key)


def test_channel_sums_of_a_non_gaussian_channel_with_many_queries_and_modes():
    """A mixture channel (component uniforms, then noise normals) over 70 modes (two 64-bit words
    of homodyne choices) and many queries: the same numbers as the per-copy path."""
    components = [{"weight": 0.6, "displacement": [0.2, -0.1]}, {"weight": 0.4, "displacement": [-0.3, 0.5]}]
    for detector in ({"kind": "heterodyne", "name": "h"}, {"kind": "homodyne", "name": "h", "squeezing_db": 3.0}):
        region = "axes" if detector["kind"] == "homodyne" else "sphere"
        scene = build_scene(kind="displacement_channel", modes=1, distribution="mixture", components=components,
                            queries=40, query_amplitude=0.3, query_region=region)
        det = build_detector(**detector)
        model = det.outcome_model(scene.prepare(det.accepts))
        fast = model.sample_statistics(np.random.default_rng(5), 20_000)
        slow = per_copy(model, np.random.default_rng(5), 20_000)
        for key in ("char_sums_real", "char_sums_imag"):
            np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-12 * 20_000, err_msg=key)


def test_homodyne_on_many_modes_same_numbers_and_hit_probability():
    scene = build_scene(kind="displacement_channel", modes=70, distribution="gaussian", variance=0.1, queries=6,
                        query_amplitude=0.2, query_region="axes")
    det = build_detector(kind="homodyne", name="h", squeezing_db=3.0)
    model = det.outcome_model(scene.prepare(det.accepts))
    assert model._mask.shape[1] == 2  # two words of choices per copy
    fast = model.sample_statistics(np.random.default_rng(8), 5000)
    slow = per_copy(model, np.random.default_rng(8), 5000)
    for key in ("char_sums_real", "char_sums_imag"):
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9, err_msg=key)
    # 70 modes, every query needs all of them: p_hit ~ 6 * 2^-70, a lower bound within its own size
    p = model.hit_probability()
    assert 0 < p <= 6 * 2.0**-70 * (1 + 1e-12)
    assert model.draws_per_copy() == pytest.approx(2.0 + p * 6)


def test_half_angle_cosine_and_sine_match_numpy_over_a_wide_range():
    """The tangent route gives cos and sin to a few 1e-16 (absolute), also for large phases."""
    from sensing.detectors.quadrature import DisplacementEstimateModel
    from sensing.physics.displacements import GaussianDisplacements

    channel = GaussianDisplacements(modes=1, variance=2e6, correlation=0.0, mean=0j)  # phases of std ~ 1e3
    model = DisplacementEstimateModel(channel, np.array([[0.5 + 0.5j]]), np.eye(2) * 0.5)
    rng = np.random.default_rng(2)
    phases = model.sample_phases(rng, 1000)[:, 0]
    total = model._phase_sums(np.random.default_rng(2), 1000)[0]
    assert np.abs(phases).max() > 1e3
    np.testing.assert_allclose(total.real, np.cos(phases).sum(), atol=1e-12)
    np.testing.assert_allclose(total.imag, np.sin(phases).sum(), atol=1e-12)


def test_homodyne_hit_probability_exact_by_enumeration_against_monte_carlo():
    _, _, model = detector_case(DETECTORS["homodyne"], 0)
    p = model.hit_probability()
    rng = np.random.default_rng(4)
    choice = rng.integers(0, np.iinfo(np.uint64).max, size=(200_000, 1), dtype=np.uint64, endpoint=True)
    match = np.all(((choice[:, None, :] ^ model._value[None]) & model._mask[None]) == 0, axis=-1) & model.supported
    observed = match.any(axis=1).mean()
    assert abs(observed - p) <= Z * np.sqrt(p * (1 - p) / 200_000)
    assert model.draws_per_copy() == pytest.approx(1 + p * 4)  # one word, then Q = 4 joint normals per hit


def test_channel_draws_per_copy():
    _, _, bell = detector_case(DETECTORS["bell"], 0)
    assert bell.draws_per_copy() == bell.queries.shape[0]  # Gaussian channel + noise: Q normals
    _, _, het = detector_case(DETECTORS["heterodyne"], 0)
    assert het.draws_per_copy() == 1 + het.queries.shape[0]  # a mixture: one uniform, Q noise normals


# -- shadow counts from the exact joint law ---------------------------------------------------------
SHADOW_CASES = [("pauli_shadow", 0), ("pauli_shadow", 1), ("clifford_shadow", 0)]


def moments_check(model, copies, repeats, seed):
    rng = np.random.default_rng(seed)
    counts = np.array([model.sample_statistics(rng, copies)["counts"] for _ in range(repeats)], dtype=float)
    mu, cov = model.mean(), model.covariance()
    # means: se of the mean of `repeats` draws of counts/copies
    se_mean = np.sqrt(np.clip(np.diag(cov), 0, None) / copies / repeats)
    dev = np.abs(counts.mean(axis=0) / copies - mu)
    assert np.all(dev <= Z * se_mean + 1e-15), (dev / np.maximum(se_mean, 1e-300)).max()
    # covariance of counts / copies: se of a sample covariance (near-Gaussian counts)
    emp = np.cov(counts.T) / copies
    d = np.diag(cov)
    se_cov = np.sqrt((np.outer(d, d) + cov**2) / (repeats - 1))
    assert np.all(np.abs(emp - cov) <= Z * se_cov + 1e-12), (np.abs(emp - cov) / np.maximum(se_cov, 1e-300)).max()


@pytest.mark.parametrize("kind,case", SHADOW_CASES)
def test_shadow_counts_match_exact_mean_and_covariance(kind, case):
    _, _, model = detector_case(DETECTORS[kind], case)
    assert model.draws_per_copy() == 0.0  # one multinomial per call
    moments_check(model, copies=2000, repeats=2000, seed=40 + case)
    stats = model.sample_statistics(np.random.default_rng(1), 10**12)  # any number of copies, one draw
    assert int(stats["copies"]) == 10**12 and stats["counts"].dtype == np.int64


def test_pauli_counts_with_erasures_and_noise_on_a_product_state():
    scene = build_scene(kind="qubit_state", state="product", qubits=3, labels="+r1", transmissivity=0.7, dephasing=0.1,
                        depolarizing=0.03)
    det = build_detector(kind="pauli_shadow", name="p", efficiency=0.9)
    model = det.outcome_model(scene.prepare(det.accepts))
    moments_check(model, copies=1000, repeats=2000, seed=9)


def test_pauli_joint_law_against_kron_rotations():
    """The qubit-by-qubit table equals 3^-n <s|U_b rho U_b^dag|s> built with full kron products."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    table = sh.pauli_outcome_probabilities(rho)
    rot = sh._BASIS_ROTATIONS
    for b in np.ndindex(3, 3, 3):
        u = np.kron(np.kron(rot[b[0]], rot[b[1]]), rot[b[2]])
        diag = np.real(np.diag(u @ rho @ u.conj().T)) / 27
        for s in np.ndindex(2, 2, 2):
            index = tuple(2 * bi + si for bi, si in zip(b, s))
            assert table[index] == pytest.approx(diag[4 * s[0] + 2 * s[1] + s[2]], abs=1e-14)


def test_large_pauli_register_counts_per_copy_without_dense_arrays():
    """Above the table size: the snapshots counted directly, the same numbers as reduce(sample())."""
    scene = build_scene(kind="qubit_state", state="ghz", qubits=8, transmissivity=0.9, depolarizing=0.05)
    det = build_detector(kind="pauli_shadow", name="p")
    model = det.outcome_model(scene.prepare(det.accepts))
    fast = model.sample_statistics(np.random.default_rng(12), 3000)
    slow = per_copy(model, np.random.default_rng(12), 3000)
    np.testing.assert_array_equal(fast["counts"], slow["counts"])
    assert model.draws_per_copy() == 2 * 8 + 2 * 8 + 2 * 8  # bases + outcomes, noise, erasures


def test_clifford_counts_zero_light_and_full_survival():
    scene = build_scene(kind="qubit_state", state="haar", qubits=2, transmissivity=1.0)
    det = build_detector(kind="clifford_shadow", name="c", efficiency=1.0)
    model = det.outcome_model(scene.prepare(det.accepts))
    stats = model.sample_statistics(np.random.default_rng(0), 12345)
    assert stats["counts"].sum() == 12345  # nothing erased
    dark = build_detector(kind="clifford_shadow", name="c", efficiency=0.0)
    model = dark.outcome_model(scene.prepare(dark.accepts))
    assert model.sample_statistics(np.random.default_rng(0), 12345)["counts"].sum() == 0


# -- CV shadows: exact polar samplers --------------------------------------------------------------
CV_STATES = [
    dict(state="displaced_squeezed", alpha=[0.5, -0.4], squeezing_db=3.0, squeezing_angle=0.7, transmissivity=0.9, cutoff=16),
    dict(state="cat", alpha=[0.6, 0.8], cat_parity="odd", transmissivity=0.8, cutoff=14),
    dict(state="coherent", alpha=[0.0, 1.1], cutoff=14),
    dict(state="thermal", thermal_photons=0.0, cutoff=4),  # vacuum: zero light
]


def cv_model(kind, scene_kw, efficiency=0.85):
    scene = build_scene(kind="cv_state", **scene_kw)
    det = build_detector(kind=kind, name="d", efficiency=efficiency)
    return det.outcome_model(scene.prepare(det.accepts))


def cv_moments_check(model, copies, seed):
    """Mean (3,) and second moments (scatter / copies) against the exact moments of the model,
    tolerances from the standard errors estimated from independent repeated batches."""
    rng = np.random.default_rng(seed)
    repeats = 20
    draws = [model.sample_statistics(rng, copies // repeats) for _ in range(repeats)]
    n = copies // repeats
    means = np.array([d["sums"] / n for d in draws])
    seconds = np.array([(d["scatter"] / n).ravel() for d in draws])
    mean, cov = model.mean(), model.covariance()
    second = (cov + np.outer(mean, mean)).ravel()
    se_mean = np.sqrt(np.diag(cov) / copies)
    assert np.all(np.abs(means.mean(axis=0) - mean) <= Z * se_mean + 1e-12), (means.mean(axis=0), mean, se_mean)
    se_second = seconds.std(axis=0, ddof=1) / np.sqrt(repeats)
    assert np.all(np.abs(seconds.mean(axis=0) - second) <= Z * se_second + 1e-12), (seconds.mean(axis=0), second, se_second)


@pytest.mark.parametrize("kind", ["heterodyne_shadow", "random_phase_homodyne"])
@pytest.mark.parametrize("index", range(len(CV_STATES)))
def test_cv_statistics_match_exact_moments(kind, index):
    model = cv_model(kind, CV_STATES[index])
    cv_moments_check(model, 200_000, seed=70 + index)


@pytest.mark.parametrize("kind", ["heterodyne_shadow", "random_phase_homodyne"])
def test_cv_example_statistics_match_exact_moments_and_draw_count(kind):
    _, _, model = detector_case(DETECTORS[kind], 0)
    cv_moments_check(model, 400_000, seed=3)
    # the stated draws per copy agree with what the sampler reports drawing (1% of the mean)
    from sensing.physics import cv_shadows as cv

    from sensing.detectors.cv_shadows import SAMPLE_BLOCK

    rng = np.random.default_rng(1)
    drawn, blocks = 0, 100_000 // SAMPLE_BLOCK + 1  # in the blocks sample_statistics uses
    for _ in range(blocks):
        if kind == "heterodyne_shadow":
            drawn += cv.sample_heterodyne_polar(model.detected, SAMPLE_BLOCK, rng)[-1]
        else:
            drawn += cv.sample_homodyne_polar(model.detected, SAMPLE_BLOCK, rng, model._envelope)[-1]
    assert drawn / (blocks * SAMPLE_BLOCK) == pytest.approx(model.draws_per_copy(), rel=0.02)


def test_trig_polynomial_sampler_against_its_exact_cdf():
    """A strongly phase-dependent polynomial (complex coefficients): chi-square of 32 phase bins
    against the exact bin probabilities (integrated in closed form), fixed seed."""
    from scipy import stats
    from sensing.physics.cv_shadows import sample_trig_polynomial

    g = np.array([0.25 - 0.15j, 0.08 + 0.1j, -0.04j])  # f = 1 + 2 Re sum g_d e^{i d phi} > 0: 2 sum |g_d| < 1
    grid = np.linspace(0, 2 * np.pi, 4001)
    f = 1 + 2 * np.real(np.exp(1j * np.outer(grid, np.arange(1, 4))) @ g)
    assert f.min() > 0
    m = 200_000
    cos, sin, tries = sample_trig_polynomial(np.random.default_rng(6), np.ones(m), np.repeat(g.real[:, None], m, 1),
                                             np.repeat(g.imag[:, None], m, 1))
    np.testing.assert_allclose(cos**2 + sin**2, 1, atol=1e-14)
    phi = np.mod(np.arctan2(sin, cos), 2 * np.pi)
    edges = np.linspace(0, 2 * np.pi, 33)
    d = np.arange(1, 4)
    # integral of f over [u, v]: (v - u) + 2 Re sum g_d (e^{i d v} - e^{i d u}) / (i d), over 2 pi
    cdf = lambda e: (e + 2 * np.real(((np.exp(1j * np.outer(e, d)) - 1) / (1j * d)) @ g)) / (2 * np.pi)
    p = np.diff(cdf(edges))
    observed = np.histogram(phi, edges)[0]
    chi2 = ((observed - m * p) ** 2 / (m * p)).sum()
    assert chi2 < stats.chi2.ppf(1 - 1e-4, 31), chi2
    bound = 1 + 2 * np.abs(g).sum()
    assert abs(tries / m - bound) <= Z * np.sqrt(bound * (bound - 1) / m)  # geometric tries, mean B / g0


def test_trig_polynomial_sampler_edges():
    """No rows; no coefficients (the uniform phase); a vanishing constant term (uniform, no hang)."""
    from sensing.physics.cv_shadows import sample_trig_polynomial

    cos, sin, tries = sample_trig_polynomial(np.random.default_rng(0), np.zeros(0), np.zeros((3, 0)))
    assert cos.size == 0 and tries == 0
    cos, sin, tries = sample_trig_polynomial(np.random.default_rng(0), np.ones(50_000), np.zeros((0, 50_000)))
    assert tries == 50_000  # every try accepted
    assert abs(cos.mean()) < Z / np.sqrt(2 * 50_000) and abs(sin.mean()) < Z / np.sqrt(2 * 50_000)
    cos, sin, tries = sample_trig_polynomial(np.random.default_rng(0), np.array([0.0, 1.0]), np.zeros((2, 2)))
    assert tries == 2 and np.allclose(cos**2 + sin**2, 1)
