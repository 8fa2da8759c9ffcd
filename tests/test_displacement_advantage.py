"""Entanglement advantage for learning a random displacement channel (Oh et al. 2024; Liu et al. 2025).

Scaling with modes, the published 100-mode figure, erosion by memory loss, the empirical
sample complexity, and an end-to-end pipeline run of the published config (small copies).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensing.contracts.states import ChannelProbe
from sensing.analyzers.channel_learning import (
    ChannelLearning,
    copies_needed,
    empirical_copies_needed,
    entanglement_free_bound,
)
from tests.helpers import make_detector, make_scene

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
KAPPA2 = 0.2
PUBLISHED_SCENE = {"kind": "displacement_channel", "modes": 100, "variance": 0.05, "queries": 8, "query_region": "axes",
                   "query_amplitude": float(np.sqrt(KAPPA2))}


def counts(detector, modes, form="hoeffding", epsilon=0.1, delta=0.05, **scene):
    """Analytic copies needed against modes for one strategy."""
    base = make_scene(**{**PUBLISHED_SCENE, **scene})
    out = []
    for n in modes:
        sized = base.resized(n)
        model = detector.outcome_model(sized.prepare(ChannelProbe))
        out.append(copies_needed(model, epsilon, delta)[form])
    return np.array(out)


def advantage_vs_conventional(detector, modes=100):
    conventional = make_detector(kind="heterodyne", name="conventional")
    return float(np.log10(counts(conventional, [modes], form="variance")[0] / counts(detector, [modes], form="variance")[0]))


PER_COPY = [
    {"kind": "heterodyne", "probe": "vacuum"},
    {"kind": "heterodyne", "probe": "coherent", "probe_amplitude": 3.0},
    {"kind": "heterodyne", "probe": "squeezed", "squeezing_db": 5.0},
    {"kind": "heterodyne", "probe": "squeezed", "squeezing_db": 10.0, "squeezing_angle": 1.0},
    {"kind": "homodyne", "probe": "squeezed", "squeezing_db": 30.0},
    {"kind": "homodyne", "probe": "vacuum"},
]


def test_collective_polynomial_per_copy_exponential():
    """Ideal memory and large squeezing: collective copies grow at most polynomially in n; per-copy ones exponentially."""
    modes = np.array([1, 2, 5, 10, 20, 50, 100])
    collective = counts(make_detector(kind="bell", squeezing_db=30.0), modes)
    slopes = np.diff(np.log(collective)) / np.diff(np.log(modes))
    assert np.all(slopes < 1.0), slopes  # log N against log n: at most ~linear (here only the ln(M/delta) and e^{2 sigma n kappa^2} ~ 1)
    assert collective[-1] / collective[0] < 1.5
    for settings in PER_COPY:
        per_copy = counts(make_detector(**settings), modes)
        # exponential: ln N grows at least linearly in n with the heterodyne rate 2 kappa^2 per mode
        rate = (np.log(per_copy[-1]) - np.log(per_copy[-2])) / (modes[-1] - modes[-2])
        assert rate >= 2 * KAPPA2 * 0.999, (settings, rate)
        assert per_copy[-1] / collective[-1] > 1e15


def test_fixed_squeezing_collective_grows_with_smaller_rate():
    """At fixed squeezing the collective count is exponential too, at rate 2 sigma kappa^2 (PHYSICS 1.5 model A)."""
    modes = np.array([50, 100])
    n5 = counts(make_detector(kind="bell", squeezing_db=5.0), modes)
    rate = np.diff(np.log(n5))[0] / 50
    assert rate == pytest.approx(2 * 10 ** (-0.5) * KAPPA2, rel=1e-3)


def test_published_setting_advantage_close_to_11_8_orders():
    """100 modes, 5 dB TMSV, 99 % memory, |beta_j|^2 = 0.2: log10 advantage vs vacuum heterodyne = 11.8."""
    detector = make_detector(kind="bell", squeezing_db=5.0, memory_efficiency=0.99)
    advantage = advantage_vs_conventional(detector)
    assert advantage == pytest.approx(11.8, abs=0.1)
    sigma = detector.closed_form_noise_per_mode()
    assert advantage == pytest.approx(2 * (1 - sigma) * 100 * KAPPA2 / np.log(10), rel=1e-6)  # the derivation in the docs
    # the lossless 5 dB value and the entanglement-free-bound comparison (PHYSICS 1.5)
    assert advantage_vs_conventional(make_detector(kind="bell", squeezing_db=5.0)) == pytest.approx(11.88, abs=0.01)
    bound = entanglement_free_bound(100, KAPPA2, 8, 0.1, 0.05)
    vs_bound = np.log10(bound / counts(detector, [100], form="variance")[0])
    assert vs_bound == pytest.approx(2.36, abs=0.05)


def test_memory_loss_erodes_advantage_continuously_and_kills_it():
    efficiencies = np.linspace(0.0, 1.0, 21)
    advantage = np.array([advantage_vs_conventional(make_detector(kind="bell", squeezing_db=5.0, memory_efficiency=e))
                          for e in efficiencies])
    assert np.all(np.diff(advantage) > 0)  # monotone in the memory efficiency
    assert np.max(np.abs(np.diff(advantage[1:]))) < 3.0  # no jumps on a 0.05 grid away from 0
    # continuous at 0 too, where sigma depends on sqrt(memory efficiency): the gap closes as the step shrinks
    near_zero = [advantage_vs_conventional(make_detector(kind="bell", squeezing_db=5.0, memory_efficiency=h)) for h in (1e-4, 1e-6, 1e-8)]
    gaps = np.abs(np.array(near_zero) - advantage[0])
    assert np.all(np.diff(gaps) < 0) and gaps[-1] < 0.01, gaps
    assert advantage[0] <= 0.0  # useless memory: no advantage (a thermal probe through heterodyne is worse)
    assert advantage[-1] == pytest.approx(11.88, abs=0.01)
    # the same with storage decay: t >> T empties the memory
    decayed = make_detector(kind="bell", squeezing_db=5.0, storage_time=50.0, memory_coherence_time=1.0)
    assert advantage_vs_conventional(decayed) <= 0.0


def _clt_failure_probability(model, copies, epsilon, rng, draws=200_000):
    """P(max_q |lambda_hat_q - lambda_q| > epsilon) at ``copies`` copies in the central-limit
    regime: the error is Gaussian with the covariance of one copy's (attenuation-corrected) term
    over N, estimated from 2e5 sampled terms; the probability from ``draws`` Gaussian draws."""
    q = model.true_values().size
    terms = model.sample_terms(rng, 200_000) * np.exp(0.5 * model.noise_exponent)
    cov = np.cov(np.concatenate([terms.real, terms.imag], axis=1).T)
    error = rng.multivariate_normal(np.zeros(2 * q), cov / copies, size=draws)
    return float(np.mean(np.abs(error[:, :q] + 1j * error[:, q:]).max(axis=1) > epsilon))


def test_empirical_sample_complexity_stops_where_the_failure_probability_crosses_delta():
    """The simulated count is the first grid N (x1.25 steps) whose observed failure rate over R = 48
    repetitions is at most delta = 0.05, i.e. at most 2 failures. So the true failure probability
    is, with probability > 1 - 1e-4 each: at most p_hi at that N (P[Binomial(48, p_hi) <= 2] = 1e-4),
    and at least p_lo at the grid point before (P[Binomial(48, p_lo) >= 3] = 1e-4). The true
    probability comes from the central-limit law of the estimator (its exact covariance sampled
    with 2e5 terms; the Monte Carlo error of the probability, < 0.002, is far inside the window).
    Also: below the rigorous Hoeffding count."""
    from scipy.optimize import brentq
    from scipy.stats import binom

    reps, delta, epsilon = 48, 0.05, 0.1
    allowed = int(np.floor(delta * reps))
    p_hi = brentq(lambda p: binom.cdf(allowed, reps, p) - 1e-4, 1e-6, 1 - 1e-6)
    p_lo = brentq(lambda p: binom.sf(allowed, reps, p) - 1e-4, 1e-9, 1 - 1e-6)
    grid = np.unique(np.round(8 * 1.25 ** np.arange(0, 100)).astype(np.int64))
    scene = make_scene(**{**PUBLISHED_SCENE, "modes": 5})
    rng = np.random.default_rng(31)
    for detector in (make_detector(kind="heterodyne"), make_detector(kind="bell", squeezing_db=5.0)):
        model = detector.outcome_model(scene.prepare(ChannelProbe))
        analytic = copies_needed(model, epsilon, delta)
        simulated = empirical_copies_needed(model, epsilon, delta, 1e5, reps, np.random.default_rng(3))
        assert simulated <= analytic["hoeffding"]
        assert _clt_failure_probability(model, simulated, epsilon, rng) <= p_hi
        before = grid[grid < simulated][-1]
        assert _clt_failure_probability(model, before, epsilon, rng) >= p_lo


def test_pipeline_run_of_published_config(tmp_path):
    """End to end (synchronous, small copies): dims, truth, unbiased estimates, the published advantage."""
    from sensing.api import run

    overrides = {"copies": [2000, 20000], "repetitions": 30, "analysis.modes": [1, 5, 100],
                 "analysis.empirical_max_copies": 3000, "analysis.empirical_repetitions": 16}
    ds = run(CONFIGS / "displacement_learning.yaml", overrides, scheduler="synchronous")
    assert set(ds["estimate_real"].dims) == {"detector", "copies", "repetition", "query"}
    assert ds["copies_needed_hoeffding"].dims == ("detector", "modes")
    adv = ds["advantage_log10_vs_vacuum_heterodyne"].sel(detector="epr_memory", modes=100)
    assert float(adv) == pytest.approx(11.82, abs=0.02)
    assert float(ds["advantage_log10_vs_vacuum_heterodyne"].sel(detector="conventional", modes=100)) == pytest.approx(0.0, abs=1e-12)
    # Mean squared error against the exact variance. Per repetition, the query-mean of
    # |error|^2 / predicted_mse is one draw of mean 1 (queries within a repetition share the
    # copies, so they are correlated; repetitions are independent). Its relative
    # distribution does not depend on N, so per detector the 2 copies x 30 repetitions = 60
    # draws give the mean and its s.e. (std / sqrt(60), 0.04-0.05 here); tolerance 4.5 s.e.
    # (a 30 % error in the predicted variance is then a > 5.9 s.e. departure for every detector)
    squared_error = (ds["estimate_real"] - ds["true_value_real"]) ** 2 + (ds["estimate_imag"] - ds["true_value_imag"]) ** 2
    np.testing.assert_allclose(squared_error.mean("repetition"), ds["mse"], rtol=1e-12)
    draws = (squared_error / ds["predicted_mse"]).mean("query").drop_sel(detector="random_homodyne")
    draws = draws.stack(draw=("copies", "repetition"))
    ratio = draws.mean("draw")
    ratio_se = draws.std("draw", ddof=1) / np.sqrt(draws.sizes["draw"])
    assert np.all(np.abs(ratio - 1) < 4.5 * ratio_se), (ratio.values, ratio_se.values)
    # Random homodyne at 100 modes: a copy answers a query only if all 100 random quadratures
    # match it (probability 2^-100), so at N <= 2e4 copies no copy contributes (probability
    # of any match N 2^-100 ~ 1e-26): every estimate is exactly 0 and the MSE is exactly
    # |lambda|^2 = e^{-2 v |beta|^2}. The predicted variance is carried by those unseen
    # events: N * predicted_mse = 2^100 e^{w C w} - |lambda|^2, with w C w = |beta|^2 e^{-2r}
    # (10 dB squeezed probe on the measured quadrature), |beta|^2 = n kappa^2.
    homodyne = ds.sel(detector="random_homodyne")
    assert np.all(homodyne["estimate_real"] == 0) and np.all(homodyne["estimate_imag"] == 0)
    norm, squeezing = 100 * KAPPA2, 10 * np.log(10) / 20
    lambda_squared = np.exp(-2 * PUBLISHED_SCENE["variance"] * norm)
    np.testing.assert_allclose(homodyne["true_value_real"] ** 2 + homodyne["true_value_imag"] ** 2, lambda_squared, rtol=1e-12)
    np.testing.assert_allclose(homodyne["mse"], lambda_squared, rtol=1e-12)
    np.testing.assert_allclose(homodyne["predicted_mse"] * homodyne["copies"],
                               2.0**100 * np.exp(norm * np.exp(-2 * squeezing)) - lambda_squared, rtol=1e-9)
    analysis = ChannelLearning(ChannelLearning.Settings())
    assert "epr_memory" in analysis.summary(ds)
    files = analysis.plots(ds, tmp_path)
    assert all(f.exists() for f in files)


def test_sweep_config_is_valid():
    from sensing.api import plan

    _, cfg, dims, built = plan(CONFIGS / "displacement_memory_sweep.yaml")
    assert list(dims) == ["squeezing_db", "memory_efficiency"]
    assert len(built) == 6 * 7


def test_analysis_rejects_other_scenes():
    from sensing.study.config import ConfigError, validate

    raw = {"seed": 1, "copies": [10], "source": {"kind": "two_point", "separation": 0.5, "photons_per_copy": 0.01},
           "detectors": [{"kind": "bell", "name": "b"}], "analysis": {"kind": "channel_learning"}}
    with pytest.raises(ConfigError, match="displacement_channel"):
        validate(raw)
