"""Exact error probabilities of every counting detector's likelihood-ratio test (issue 12).

Oracles: brute-force sums over the totals written here, Neyman-Pearson tests built by hand /
by enumeration, the detectors' own thermal samplers (Monte Carlo, 4 standard errors plus the
stated numerical accuracy), the Chernoff exponent (decay), direct eigenvalues (Helstrom), and a
registered test scene with physical units (observing time)."""

from typing import Literal

import numpy as np
import pytest
from scipy.stats import binom, poisson

from sensing.analyzers.hypothesis_testing import HypothesisTesting, HypothesisTestingSettings, _support_correlations
from sensing.contracts.seeds import stream
from sensing.contracts.states import ThermalLight
from sensing.physics.hypothesis import (
    IndependentOutputs,
    helstrom_error,
    thermal_density_matrices,
    thermal_helstrom_error,
    thermal_repeated_helstrom_error,
)
from sensing.scenes.two_point import TwoPointScene, TwoPointSettings
from sensing.testing import build_detector, build_scene


def _brute_bayes(pmfs0, pmfs1, prior):
    """Sum of min(pi0 P0, pi1 P1) over every combination of the per-output totals."""
    p0, p1 = pmfs0[0], pmfs1[0]
    for a, b in zip(pmfs0[1:], pmfs1[1:]):
        p0, p1 = np.multiply.outer(p0, a), np.multiply.outer(p1, b)
    return np.minimum(prior * p0, (1 - prior) * p1).sum()


def _brute_neyman_pearson(p0, p1, alpha):
    """Most powerful randomised test by enumeration: reject the outcomes of largest P1/P0 first."""
    p0, p1 = p0.ravel(), p1.ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p0 > 0, p1 / np.where(p0 > 0, p0, 1), np.inf)
    order = np.argsort(-ratio, kind="stable")
    ratio, p0, p1 = ratio[order], p0[order], p1[order]
    keys, start = np.unique(-ratio, return_index=True)  # tie groups, descending ratio
    edges = list(start) + [len(ratio)]
    level, miss = 0.0, p1.sum()
    for a, b in zip(edges[:-1], edges[1:]):
        g0, g1 = p0[a:b].sum(), p1[a:b].sum()
        if level + g0 <= alpha:
            level, miss = level + g0, miss - g1
        else:
            return miss - (alpha - level) / g0 * g1
    return miss


def test_exact_bayes_error_three_poisson_outputs_against_brute_force():
    m0, m1 = np.array([0.3, 0.5, 0.2]), np.array([0.45, 0.35, 0.25])
    c, prior = 6.0, 0.4
    t = np.arange(80)
    brute = _brute_bayes([poisson.pmf(t, c * m) for m in m0], [poisson.pmf(t, c * m) for m in m1], prior)
    result = IndependentOutputs(m0, m1).bayes_error(c, prior)
    assert 0 < result.relative_accuracy < 0.02
    assert abs(result.probability - brute) <= result.relative_accuracy * brute
    finer = IndependentOutputs(m0, m1).bayes_error(c, prior, delta_target=1e-4)
    assert abs(finer.probability - brute) <= finer.relative_accuracy * brute
    assert finer.relative_accuracy < 1e-4


def test_exact_bayes_error_clicks_with_an_output_dark_under_h1():
    q0, q1 = np.array([0.1, 0.3, 0.05]), np.array([0.2, 0.25, 0.0])
    n, prior = 7, 0.4
    k = np.arange(n + 1)
    brute = _brute_bayes([binom.pmf(k, n, q) for q in q0], [binom.pmf(k, n, q) for q in q1], prior)
    result = IndependentOutputs(q0, q1, "bernoulli").bayes_error(n, prior)
    assert abs(result.probability - brute) <= result.relative_accuracy * brute
    assert result.relative_accuracy < 0.02


def test_neyman_pearson_single_poisson_output_by_hand():
    """H0: Pois(4), H1: Pois(1.5): the ratio falls with the count, so reject H0 for small counts."""
    mu0, mu1, alpha = 4.0, 1.5, 0.05
    # P0(T <= 0) = 0.0183 <= alpha < P0(T <= 1) = 0.0916: reject T = 0, randomise at T = 1
    below, at = poisson.pmf(0, mu0), poisson.pmf(1, mu0)
    gamma = (alpha - below) / at
    by_hand = poisson.sf(1, mu1) + (1 - gamma) * poisson.pmf(1, mu1)
    result = IndependentOutputs([mu0], [mu1]).neyman_pearson_miss(1.0, alpha)
    assert result.probability == pytest.approx(by_hand, rel=1e-12)
    # an output dark under H0 (the SPADE bucket) rejects for free: a factor P1(dark) on the miss
    spade_like = IndependentOutputs([mu0, 0.0], [mu1, 0.7]).neyman_pearson_miss(1.0, alpha)
    assert spade_like.probability == pytest.approx(by_hand * np.exp(-0.7), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.01, 0.2])
def test_neyman_pearson_miss_three_outputs_against_enumeration(alpha):
    m0, m1 = np.array([0.9, 0.4, 0.3]), np.array([0.6, 0.7, 0.35])
    c = 5.0
    t = np.arange(60)
    p0 = np.einsum("i,j,k->ijk", *[poisson.pmf(t, c * m) for m in m0])
    p1 = np.einsum("i,j,k->ijk", *[poisson.pmf(t, c * m) for m in m1])
    enumerated = _brute_neyman_pearson(p0, p1, alpha)
    result = IndependentOutputs(m0, m1).neyman_pearson_miss(c, alpha)
    assert abs(result.probability - enumerated) <= result.relative_accuracy * enumerated
    assert result.relative_accuracy < 0.05
    wrong = IndependentOutputs(m0, m1).neyman_pearson_miss(c, alpha * 1.5)  # a different level is caught
    assert abs(wrong.probability - enumerated) > result.relative_accuracy * enumerated


def _analysis(**settings):
    return HypothesisTesting(HypothesisTestingSettings(**settings), seed=7)


@pytest.mark.parametrize("kind,settings,copies", [
    ("camera", {"pixel_pitch": 0.5, "pixels": 12, "dark_counts": 1e-5}, [200_000, 800_000]),
    ("spade", {"modes": 3, "dark_counts": 1e-4}, [100_000, 400_000]),
    ("camera", {"pixel_pitch": 0.5, "pixels": 12, "pixel_type": "threshold"}, [200_000, 800_000]),
])
def test_exact_error_of_many_output_detectors_agrees_with_monte_carlo(kind, settings, copies):
    """Cameras and SPADE with dark counts (more than two likelihood-ratio groups), counts and
    clicks: H1 totals from the detector's thermal sampler, H0 totals drawn by the analysis, the
    LRT's empirical Bayes error within 4 standard errors plus the stated accuracy."""
    scene = build_scene(separation=1.0, photons_per_copy=1e-3)
    detector = build_detector(kind=kind, **settings)
    model1 = detector.outcome_model(scene.prepare(detector.accepts))
    rng = np.random.default_rng(21)
    reps = 1500
    increments = np.diff([0] + copies)
    draws = np.array([[model1.sample_statistics(rng, int(c))["totals"] for c in increments] for _ in range(reps)])
    stats = {"copies": np.array([[c] * reps for c in copies]), "totals": np.cumsum(draws, axis=1).transpose(1, 0, 2)}
    result = _analysis(stored_copies=[1]).analyze_detector(scene, detector, stats, seed=stream(7, 97))
    assert np.all(result["exact"] > 0.01)  # a regime the Monte Carlo resolves
    assert np.all(result["exact_accuracy"] < 0.02)
    tolerance = 4 * result["standard_error"] + result["exact_accuracy"] * result["exact"]
    assert np.all(np.abs(result["monte_carlo"] - result["exact"]) < tolerance), (result["monte_carlo"], result["exact"])


def test_exact_camera_error_decays_with_its_chernoff_exponent():
    """P_e ~ C c^{-1/2} e^{-c xi}: the prefactor-corrected slope of ln P_e approaches xi."""
    scene = build_scene(separation=1.0, photons_per_copy=1.0)
    detector = build_detector(kind="camera", pixel_pitch=0.5, pixels=12)
    m0 = detector.outcome_model(scene.prepare(ThermalLight, {"separation": 0.0})).mean()
    m1 = detector.outcome_model(scene.prepare(ThermalLight)).mean()
    outputs = IndependentOutputs(m0, m1)
    xi = outputs.chernoff_exponent().exponent
    cs = np.array([20, 40, 80]) / xi
    errors = [outputs.bayes_error(c, delta_target=0.02) for c in cs]
    assert all(e.relative_accuracy < 1e-2 for e in errors)
    logs = np.log([e.probability for e in errors])
    slopes = [-(logs[i + 1] - logs[i]) / (cs[i + 1] - cs[i]) - 0.5 * np.log(2) / (cs[i + 1] - cs[i]) for i in range(2)]
    assert abs(slopes[1] / xi - 1) < abs(slopes[0] / xi - 1) + 1e-3
    assert slopes[1] == pytest.approx(xi, rel=0.02)
    assert errors[-1].probability < np.exp(-outputs.chernoff_bound(cs[-1]).exponent)  # below the Chernoff bound


def test_repeated_single_copy_helstrom_against_direct_eigenvalues():
    """k = 1: the single-copy Helstrom error (direct eigenvalues of the Fock-space matrices);
    k = 2: the brute-force Bayes error of the measurement's outcome pairs; and the collective
    Helstrom error on k copies is never above the repeated one."""
    scene = build_scene(separation=0.8, photons_per_copy=0.05)
    corr0, corr1 = _support_correlations(scene.prepare(ThermalLight, {"separation": 0.0}), scene.prepare(ThermalLight))
    blocks, tail = thermal_density_matrices(corr0, corr1, max_photons=2)
    from scipy.linalg import block_diag

    rho0, rho1 = block_diag(*[b.null for b in blocks]), block_diag(*[b.alternative for b in blocks])
    single = helstrom_error(rho0, rho1, 1, max_dimension=10**6)
    repeated1 = thermal_repeated_helstrom_error(corr0, corr1, 1)
    assert repeated1 == pytest.approx(single, abs=max(tail) + 1e-12)
    # k = 2 by brute force: the outcome (n, +/-) of each copy, then the sum over outcome pairs
    outcome0, outcome1 = [], []
    for b0, b1 in blocks:
        lam, vec = np.linalg.eigh(0.5 * b0 - 0.5 * b1)
        projector = vec[:, lam > 0] @ vec[:, lam > 0].T
        for out, b in ((outcome0, b0), (outcome1, b1)):
            inside = np.trace(projector @ b).real
            out.extend([inside, np.trace(b).real - inside])
    outcome0.append(tail.null)
    outcome1.append(tail.alternative)
    p0, p1 = np.array(outcome0), np.array(outcome1)
    brute = 0.5 * np.minimum(np.outer(p0, p0), np.outer(p1, p1)).sum()
    assert thermal_repeated_helstrom_error(corr0, corr1, 2) == pytest.approx(brute, rel=1e-10)
    for k in (1, 2, 4, 8):
        h = thermal_helstrom_error(corr0, corr1, copies=k, max_photons=2)
        assert h.error_probability - h.truncation_error <= thermal_repeated_helstrom_error(corr0, corr1, k) + 1e-12


class TimedTwoPointSettings(TwoPointSettings):
    kind: Literal["timed_two_point"] = "timed_two_point"
    copies_per_second: float = 2.5e6


class TimedTwoPointScene(TwoPointScene):
    """The two_point scene with a physical copy rate (a stand-in for the units work on two_point)."""

    kind = "timed_two_point"
    Settings = TimedTwoPointSettings

    def copies_per_second(self) -> float:
        return self.settings.copies_per_second


def _tiny_run(source):
    from sensing.api import run

    config = {"seed": 3, "copies": [1000, 4000], "repetitions": 4, "source": source,
              "detectors": [{"name": "bspade", "kind": "spade", "modes": 1}],
              "analysis": {"kind": "hypothesis_testing", "stored_copies": [1, 2], "target_error": 0.01}}
    return run(config, scheduler="synchronous")


def test_observing_time_from_a_scene_with_copies_per_second():
    from sensing.study.registry import SCENES

    if "timed_two_point" not in SCENES:
        SCENES.register(TimedTwoPointScene)
    source = {"separation": 1.0, "photons_per_copy": 0.01}
    timed = _tiny_run({"kind": "timed_two_point", "copies_per_second": 2.5e6, **source})
    np.testing.assert_allclose(timed["observing_time_needed"].values, timed["copies_needed"].values / 2.5e6, rtol=1e-12)
    np.testing.assert_allclose(timed["quantum_observing_time_needed"].values,
                               timed["quantum_copies_needed"].values / 2.5e6, rtol=1e-12)
    assert timed["observing_time_needed"].attrs["units"] == "s"
    assert np.all(np.isfinite(timed["observing_time_needed"].sel(setting="symmetric").values))
    plain = _tiny_run({"kind": "two_point", **source})
    assert np.all(np.isnan(plain["observing_time_needed"].values))  # no units: no time
    np.testing.assert_allclose(plain["copies_needed"].values, timed["copies_needed"].values)
