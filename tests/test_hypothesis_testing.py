"""One star or two (analysis.kind: hypothesis_testing): exponents against PHYSICS.md §6, exact
error probabilities against the Monte Carlo, and the k-copy Helstrom error against per-copy receivers."""

import numpy as np
import pytest

from sensing.analyzers.hypothesis_testing import (
    HypothesisTesting,
    HypothesisTestingSettings,
    two_group_bayes_error,
    _groups,
)
from sensing.contracts.seeds import stream
from sensing.contracts.states import ThermalLight
from sensing.physics.hypothesis import helstrom_error, thermal_density_matrices
from sensing.testing import build_detector, build_scene

EPS = 1e-4  # photons per copy: the weak-source limit


def _analysis(**settings):
    return HypothesisTesting(HypothesisTestingSettings(**settings), seed=7)


def _exponent_per_photon(detector, separation, relative_brightness=0.5, photons=EPS):
    scene = build_scene(separation=separation, relative_brightness=relative_brightness, photons_per_copy=photons)
    return _analysis(monte_carlo=False).outcome_laws(scene, detector)[2].chernoff_exponent().exponent / photons


@pytest.mark.parametrize("d", [0.01, 0.1, 0.5, 1.0, 2.0])
def test_binary_spade_attains_one_minus_exp_minus_q_lu2018(d):
    xi = _exponent_per_photon(build_detector(kind="spade", modes=1), d)
    assert xi == pytest.approx(-np.expm1(-d**2 / 16), rel=1e-6)


@pytest.mark.parametrize("d", [0.1, 0.5, 1.0, 2.0])
def test_sliver_exponent_closed_form(d):
    xi = _exponent_per_photon(build_detector(kind="sliver"), d)
    assert xi == pytest.approx(-np.expm1(-d**2 / 8) / 2, rel=1e-6)


def test_direct_imaging_matches_physics_6_2_and_falls_as_d4():
    camera = build_detector(kind="camera", pixel_pitch=0.05, pixels=400)
    # PHYSICS.md §6.2 (continuum, Poisson model); 0.05 sigma pixels cost ~4e-4 relative
    assert _exponent_per_photon(camera, 1.0) == pytest.approx(3.1954e-3, rel=1e-3)
    assert _exponent_per_photon(camera, 0.1) == pytest.approx(3.8965e-7, rel=1e-3)
    small = [_exponent_per_photon(camera, d) for d in (0.05, 0.1)]
    assert small[1] / small[0] == pytest.approx(16, rel=0.01)  # quartic
    assert small[0] == pytest.approx(0.05**4 / 256, rel=0.01)


def test_scene_keeps_the_intensity_centroid_fixed():
    """PHYSICS.md §6.3 assumes the intensity-weighted centroid on the axis (the scene's default)."""
    scene = build_scene(separation=1.0, relative_brightness=0.1, photons_per_copy=1.0)
    light = scene.prepare(ThermalLight)
    corr = (np.conj(light.factor) @ light.factor.T).real
    q = np.arange(corr.shape[0] - 1)
    mean_x = 2 * scene.settings.psf_sigma * (np.sqrt(q + 1) * np.diagonal(corr, 1)).sum() / np.trace(corr)
    assert abs(mean_x) < 1e-9


@pytest.mark.parametrize("d,e,spade,camera", [(0.5, 0.01, 6.004e-4, 4.139e-7), (0.5, 0.1, 5.499e-3, 3.247e-5)])
def test_faint_companion_huang_lupo_physics_6_3(d, e, spade, camera):
    assert _exponent_per_photon(build_detector(kind="spade", modes=1), d, e) == pytest.approx(spade, rel=1e-3)
    grid = build_detector(kind="camera", pixel_pitch=0.05, pixels=400)
    assert _exponent_per_photon(grid, d, e) == pytest.approx(camera, rel=5e-3)


def test_two_group_error_equals_brute_force_sum():
    """The closed-form inner sum against a direct double sum over both Poisson totals."""
    from scipy.stats import poisson

    groups = [(0.3, 0.5), (2.0, 1.7)]
    c, prior = 7.0, 0.4
    t = np.arange(120)
    p0 = np.outer(poisson.pmf(t, c * 0.3), poisson.pmf(t, c * 2.0))
    p1 = np.outer(poisson.pmf(t, c * 0.5), poisson.pmf(t, c * 1.7))
    brute = np.minimum(prior * p0, (1 - prior) * p1).sum()
    assert two_group_bayes_error(groups, c, prior) == pytest.approx(brute, rel=1e-10)
    assert np.isnan(two_group_bayes_error([(1, 2), (2, 1), (3, 1)], c, prior))
    assert len(_groups(np.array([1.0, 2.0, 0.0]), np.array([2.0, 4.0, 1.0]))) == 2  # equal ratios merged


@pytest.mark.parametrize("kind,settings", [("spade", {"modes": 1}), ("sliver", {"visibility": 0.98, "dark_counts": 1e-5})])
def test_exact_error_agrees_with_monte_carlo(kind, settings):
    """H1 totals from the detector's thermal sampler, H0 totals drawn by the analysis: the LRT's
    empirical Bayes error within 4 standard errors of the exact Poisson-model value."""
    scene = build_scene(separation=0.3, photons_per_copy=1e-3)
    detector = build_detector(kind=kind, **settings)
    model1 = detector.outcome_model(scene.prepare(detector.accepts))
    rng = np.random.default_rng(11)
    copies, reps = [100_000, 400_000], 2000
    increments = np.diff([0] + copies)
    draws = np.array([[model1.sample_statistics(rng, int(c))["totals"] for c in increments] for _ in range(reps)])
    stats = {"copies": np.array([[c] * reps for c in copies]), "totals": np.cumsum(draws, axis=1).transpose(1, 0, 2)}
    result = _analysis().analyze_detector(scene, detector, stats, seed=stream(7, 99))
    assert np.all(result["exact"] > 0.01)  # a regime the Monte Carlo resolves
    z = np.abs(result["monte_carlo"] - result["exact"]) / result["standard_error"]
    assert np.all(z < 4), (result["monte_carlo"], result["exact"], result["standard_error"])


def test_a_wrong_exact_error_is_caught_by_the_monte_carlo_check():
    """The comparison can fail: the exact value at 0.7x the copies is many standard errors away."""
    scene = build_scene(separation=0.3, photons_per_copy=1e-3)
    detector = build_detector(kind="spade", modes=1)
    model1 = detector.outcome_model(scene.prepare(detector.accepts))
    rng = np.random.default_rng(12)
    reps = 2000
    totals = np.array([model1.sample_statistics(rng, 1_000_000)["totals"] for _ in range(reps)])
    stats = {"copies": np.full((1, reps), 1_000_000), "totals": totals[None]}
    result = _analysis().analyze_detector(scene, detector, stats, seed=stream(7, 98))
    wrong = two_group_bayes_error(_groups(*(detector.outcome_model(scene.prepare(ThermalLight, v)).mean()
                                             for v in ({"separation": 0.0}, None))), 0.7e6)
    assert abs(result["monte_carlo"][0] - wrong) > 4 * result["standard_error"][0]


def test_helstrom_k_copies_never_above_per_copy_receivers():
    scene = build_scene(separation=0.8, photons_per_copy=0.05)
    analysis = _analysis(stored_copies=[1, 2, 4, 8], monte_carlo=False)
    scene_result = analysis.analyze_scene(scene)
    helstrom = scene_result["helstrom"] + scene_result["helstrom_truncation"]
    for detector in (build_detector(kind="spade", modes=1), build_detector(kind="sliver"),
                     build_detector(kind="spade", modes=2, bucket=True)):
        n = len(detector.output_labels(scene.prepare(detector.accepts)))
        stats = {"copies": np.array([[10, 10]]), "totals": np.zeros((1, 2, n), dtype=np.int64)}
        per_copy = analysis.analyze_detector(scene, detector, stats)["per_copy"]
        assert np.all(np.isfinite(per_copy))
        assert np.all(helstrom <= per_copy + 1e-12), (detector.name, helstrom, per_copy)
    # k = 1: the single-copy Helstrom error of the Fock-space density matrices
    light0, light1 = scene.prepare(ThermalLight, {"separation": 0.0}), scene.prepare(ThermalLight)
    from sensing.analyzers.hypothesis_testing import _support_correlations

    blocks, tail = thermal_density_matrices(*_support_correlations(light0, light1), max_photons=4)
    from scipy.linalg import block_diag

    rho0 = block_diag(*[b.null for b in blocks])
    rho1 = block_diag(*[b.alternative for b in blocks])
    single = helstrom_error(rho0, rho1, 1, max_dimension=10**6)
    assert scene_result["helstrom"][0] == pytest.approx(single, abs=scene_result["helstrom_truncation"][0] + 2 * max(tail) + 1e-12)


def test_quantum_chernoff_weak_light_limit_and_bounds_every_detector():
    scene = build_scene(separation=0.5, photons_per_copy=1e-4)
    result = _analysis().analyze_scene(scene)
    assert result["quantum_chernoff"] / 1e-4 == pytest.approx(-np.expm1(-0.5**2 / 16), rel=1e-3)
    for detector in (build_detector(kind="camera", pixel_pitch=0.1, pixels=100), build_detector(kind="sliver")):
        assert _exponent_per_photon(detector, 0.5) <= result["quantum_chernoff"] / 1e-4 * (1 + 1e-3)
