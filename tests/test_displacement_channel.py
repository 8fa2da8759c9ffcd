"""Random displacement channel: scene, SF-derived samplers and the unbiased estimator (PHYSICS.md §0, §1.3).

Statistical tests use fixed seeds and tolerances from the exact standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sensing.contracts.states import ChannelProbe
from sensing.detectors.quadrature import DisplacementEstimateModel
from sensing.analyzers.channel_learning import copies_needed
from sensing.physics.displacements import MixtureDisplacements, query_vectors
from sensing.sf_compat import import_strawberryfields
from tests.helpers import make_detector, make_scene

CHECKPOINT_MIXTURE = [
    {"weight": 0.5, "displacement": [0.3, 0.1]},
    {"weight": 0.3, "displacement": [-0.5, 0.4]},
    {"weight": 0.2, "displacement": [0.0, -0.7]},
]


def mixture_scene(**extra):
    return make_scene(kind="displacement_channel", modes=1, distribution="mixture", components=CHECKPOINT_MIXTURE, **extra)


def bell(db, **extra):
    return make_detector(kind="bell", squeezing_db=db, **extra)


def model_at(detector, channel, queries):
    return DisplacementEstimateModel(channel, np.atleast_2d(queries), detector.noise())


# -- scene -----------------------------------------------------------------------------------------
def test_characteristic_function_physics_checkpoints():
    scene = mixture_scene()
    lam = scene.characteristic_function(np.array([[0.5 + 0.5j], [1.5 - 0.5j]]))
    np.testing.assert_allclose(lam, [0.8295 - 0.0068j, 0.5412 - 0.3029j], atol=1e-4)  # table rounded to 4 decimals


def test_gaussian_characteristic_function_matches_monte_carlo(rng):
    scene = make_scene(kind="displacement_channel", modes=3, variance=0.3, correlation=0.5, mean=[0.1, -0.2], queries=4, query_amplitude=0.7)
    alpha = scene.channel.sample(rng, 200_000)
    z = np.exp(alpha.conj() @ scene.queries.T - alpha @ scene.queries.conj().T)  # beta.alpha^* - beta^*.alpha
    se = np.sqrt(1.0 / alpha.shape[0])
    np.testing.assert_allclose(z.mean(axis=0), scene.characteristic_function(), atol=4.5 * se)


def test_scene_state_from_sf_matches_closed_form():
    scene = make_scene(kind="displacement_channel", modes=3, variance=0.2, correlation=0.3, mean=[0.2, 0.1])
    state = scene.state()  # SF gaussian backend (modes <= 16)
    cov, means = scene.reference_moments()
    np.testing.assert_allclose(state.cov, cov, atol=1e-10)
    np.testing.assert_allclose(state.means, means, atol=1e-10)
    assert scene.photons_per_copy == pytest.approx(3 * (0.2 + 0.05))


def test_mixture_needs_components():
    with pytest.raises(Exception, match="components"):
        make_scene(kind="displacement_channel", modes=2, distribution="mixture")


# -- SF-derived noise --------------------------------------------------------------------------------
@pytest.mark.parametrize("db, sigma", [(0.0, 1.0), (5.0, 0.31623), (10.0, 0.1)])
def test_ideal_bell_noise_is_exp_minus_2r(db, sigma):
    noise = bell(db).noise()
    np.testing.assert_allclose(noise, np.eye(2) * sigma / 2, atol=2e-5)


@pytest.mark.parametrize("settings", [
    {"memory_efficiency": 0.9},
    {"memory_efficiency": 0.5, "efficiency": 0.8, "signal_transmissivity": 0.7},
    {"memory_efficiency": 0.0},
    {"memory_efficiency": 0.95, "storage_time": 2.0, "memory_coherence_time": 10.0, "idler_transmissivity": 0.9},
])
def test_lossy_bell_noise_matches_closed_form(settings):
    detector = bell(10.0, **settings)
    assert np.trace(detector.noise()) == pytest.approx(detector.closed_form_noise_per_mode(), rel=1e-9)


def test_physics_equal_arm_loss_formula():
    """PHYSICS.md §0/§1.3: loss eta on both arms gives sigma = (eta e^-2r + 1 - eta) / eta."""
    detector = bell(10.0, efficiency=0.9)
    assert np.trace(detector.noise()) == pytest.approx((0.9 * 0.1 + 0.1) / 0.9, rel=1e-9)


def test_memory_decay_is_exponential():
    d = bell(5.0, memory_efficiency=0.8, storage_time=3.0, memory_coherence_time=6.0)
    assert d.memory.transmissivity == pytest.approx(0.8 * np.exp(-0.5))


def test_vacuum_heterodyne_noise_and_squeezed_probe():
    np.testing.assert_allclose(make_detector(kind="heterodyne").noise(), np.eye(2) / 2, atol=1e-12)
    r = 5 * np.log(10) / 20
    squeezed = make_detector(kind="heterodyne", probe="squeezed", squeezing_db=5.0).noise()
    np.testing.assert_allclose(np.diag(squeezed), [(np.exp(-2 * r) + 1) / 4, (np.exp(2 * r) + 1) / 4], rtol=1e-9)
    coherent = make_detector(kind="heterodyne", probe="coherent", probe_amplitude=2.0, efficiency=0.8).noise()
    np.testing.assert_allclose(coherent, np.eye(2) / 2 / 0.8, rtol=1e-9)


# -- samplers against the SF states they came from --------------------------------------------------
def _ks(samples, mean, sd):
    return stats.kstest(samples, "norm", args=(mean, sd)).pvalue


@pytest.mark.parametrize("detector_settings", [
    {"kind": "bell", "squeezing_db": 5.0, "memory_efficiency": 0.8, "efficiency": 0.9},
    {"kind": "heterodyne", "probe": "squeezed", "squeezing_db": 3.0, "efficiency": 0.85},
    {"kind": "homodyne", "probe": "squeezed", "squeezing_db": 6.0, "efficiency": 0.9},
])
def test_sampled_estimates_agree_with_sf_state(detector_settings):
    """Per-copy alpha_hat for a fixed displacement: means and variances of the SF state, KS test."""
    detector = make_detector(**detector_settings)
    alpha0 = 0.4 - 0.3j
    channel = MixtureDisplacements(1, np.array([1.0]), np.array([[alpha0]]))
    model = model_at(detector, channel, [[0.5]])
    samples = model.sample_estimates(np.random.default_rng(11), 20_000)[:, 0]
    means, cov = detector.measured_moments(alpha0)  # straight from the SF state (with the displacement)
    gain, _ = detector.gain_and_noise()
    for part, k in ((samples.real, 0), (samples.imag, 1)):
        mean, sd = means[k] / gain[k], np.sqrt(cov[k, k]) / abs(gain[k])
        assert _ks(part, mean, sd) > 1e-3
    np.testing.assert_allclose([samples.real.mean(), samples.imag.mean()], [alpha0.real, alpha0.imag], atol=4.5 * np.sqrt(cov.max() / gain.min() ** 2 / 20_000))


def test_bell_samples_agree_with_sf_engine_shots():
    """Two-sample KS against SF's own MeasureX/MeasureP shots (a few hundred Engine runs, test only)."""
    sf = import_strawberryfields()
    detector = bell(5.0, memory_efficiency=0.9)
    alpha0 = 0.3 + 0.2j
    prog = detector.program(alpha0, measure=True)
    shots = []
    for _ in range(300):
        eng = sf.Engine("gaussian")
        shots.append(eng.run(prog).samples[0])
    shots = np.asarray(shots, dtype=float)
    gain, _ = detector.gain_and_noise()
    channel = MixtureDisplacements(1, np.array([1.0]), np.array([[alpha0]]))
    ours = model_at(detector, channel, [[0.5]]).sample_estimates(np.random.default_rng(5), 5000)[:, 0]
    assert stats.ks_2samp(shots[:, 0] / gain[0], ours.real).pvalue > 1e-3
    assert stats.ks_2samp(shots[:, 1] / gain[1], ours.imag).pvalue > 1e-3


def test_phase_sampler_matches_raw_estimates(rng):
    """The O(Q) phase sampler and the raw alpha_hat sampler give the same statistic (KS per query)."""
    scene = make_scene(kind="displacement_channel", modes=4, variance=0.2, correlation=0.3, queries=2, query_amplitude=0.5)
    model = bell(5.0, memory_efficiency=0.9).outcome_model(scene.prepare(ChannelProbe))
    phases = model.sample_phases(rng, 20_000)
    alpha_hat = model.sample_estimates(rng, 20_000)
    a = np.concatenate([alpha_hat.real, alpha_hat.imag], axis=1)
    raw = a @ query_vectors(scene.queries).T
    for q in range(2):
        assert stats.ks_2samp(phases[:, q], raw[:, q]).pvalue > 1e-3


# -- the estimator -----------------------------------------------------------------------------------
@pytest.mark.parametrize("detector_settings, beta, se", [
    ({"kind": "heterodyne"}, 0.5 + 0.5j, 0.0023),                # 0 dB = heterodyne
    ({"kind": "heterodyne"}, 1.5 - 0.5j, 0.0192),
    ({"kind": "bell", "squeezing_db": 5.0}, 1.5 - 0.5j, 0.0033),
    ({"kind": "bell", "squeezing_db": 10.0}, 1.5 - 0.5j, 0.0018),
])
def test_estimator_unbiased_physics_checkpoints(detector_settings, beta, se):
    """PHYSICS.md §1.3 table: N = 4e5 copies, the estimate within 4.5 predicted s.e. of the exact lambda."""
    scene = mixture_scene()
    model = model_at(make_detector(**detector_settings), scene.channel, [[beta]])
    copies = 400_000
    predicted = np.sqrt(model.estimator_variance()[0] / copies)
    assert predicted == pytest.approx(se, rel=0.05)
    estimate = model.estimate(model.sample_statistics(np.random.default_rng(20240229), copies))[0]
    truth = model.true_values()[0]
    assert abs(estimate.real - truth.real) < 4.5 * predicted
    assert abs(estimate.imag - truth.imag) < 4.5 * predicted


def test_estimator_standard_error_matches_exact_variance():
    """Over repetitions, mean |error|^2 * N equals e^{2 sigma |beta|^2} - |lambda|^2 (chi-square tolerance)."""
    scene = make_scene(kind="displacement_channel", modes=3, variance=0.1, queries=3, query_amplitude=0.6)
    model = bell(5.0, memory_efficiency=0.9).outcome_model(scene.prepare(ChannelProbe))
    rng = np.random.default_rng(7)
    reps, copies = 400, 2000
    errors = np.array([model.estimate(model.sample_statistics(rng, copies)) for _ in range(reps)]) - model.true_values()
    measured = (np.abs(errors) ** 2).mean(axis=0) * copies
    predicted = model.estimator_variance()
    np.testing.assert_allclose(measured, predicted, rtol=4.5 * np.sqrt(2.0 / reps))  # |err|^2 ~ exp-like: rel s.e. ~ 1/sqrt(reps)
    bias = errors.mean(axis=0)
    assert np.all(np.abs(bias) < 4.5 * np.sqrt(predicted / copies / reps))


def test_model_moments_match_sampler(rng):
    scene = make_scene(kind="displacement_channel", modes=2, distribution="mixture", random_components=5, queries=3, query_amplitude=0.7)
    model = make_detector(kind="heterodyne", probe="squeezed", squeezing_db=4.0).outcome_model(scene.prepare(ChannelProbe))
    y = model.sample(rng, 100_000)
    se = np.sqrt(np.diag(model.covariance()) / y.shape[0])
    assert np.all(np.abs(y.mean(axis=0) - model.mean()) < 4.5 * se)
    # s.e. of a sample covariance entry: sqrt((m_22 - C_ij^2) / n), with the fourth moment
    # m_22 = E[(y_i - mu_i)^2 (y_j - mu_j)^2] taken from the sample (the mixture is not Gaussian)
    centred = y - y.mean(axis=0)
    products = centred[:, :, None] * centred[:, None, :]
    cov_se = products.std(axis=0) / np.sqrt(y.shape[0])
    assert np.all(np.abs(products.mean(axis=0) - model.covariance()) < 4.5 * cov_se)


@pytest.mark.parametrize("db, norm, expected", [
    (0.0, 1.0, 1.3e4), (0.0, 10.0, 8.5e11), (5.0, 1.0, 3.3e3), (5.0, 10.0, 9.8e5), (10.0, 1.0, 2.1e3), (10.0, 10.0, 1.3e4),
])
def test_hoeffding_counts_physics_table(db, norm, expected):
    """PHYSICS.md §1.3 Hoeffding table (delta = 0.05, epsilon = 0.1, one query of |beta|^2 = norm)."""
    detector = make_detector(kind="heterodyne") if db == 0 else bell(db)
    model = model_at(detector, mixture_scene().channel, [[np.sqrt(norm)]])
    assert copies_needed(model, 0.1, 0.05)["hoeffding"] == pytest.approx(expected, rel=0.05)


# -- random-quadrature homodyne ------------------------------------------------------------------------
def test_random_homodyne_unbiased_and_matches_with_probability_two_to_minus_s():
    scene = make_scene(kind="displacement_channel", modes=3, variance=0.2, queries=4, query_amplitude=0.6, query_region="axes")
    model = make_detector(kind="homodyne", squeezing_db=10.0).outcome_model(scene.prepare(ChannelProbe))
    rng = np.random.default_rng(17)
    z = model.sample_terms(rng, 200_000)
    np.testing.assert_allclose((z != 0).mean(axis=0), 2.0 ** -3, atol=4.5 * np.sqrt(2**-3 * (1 - 2**-3) / 200_000))
    copies = 200_000
    estimate = model.estimate(model.reduce(np.concatenate([z.real, z.imag], axis=1)))
    se = np.sqrt(model.estimator_variance() / copies)
    assert np.all(np.abs(estimate - model.true_values()) < 4.5 * se)
    r = 10 * np.log(10) / 20
    np.testing.assert_allclose(model.noise, np.eye(2) * np.exp(-2 * r) / 4, rtol=1e-9)  # x-squeezed probe, x measured


def test_random_homodyne_cannot_answer_generic_queries():
    scene = make_scene(kind="displacement_channel", modes=2, queries=3, query_region="sphere")
    model = make_detector(kind="homodyne").outcome_model(scene.prepare(ChannelProbe))
    assert not model.supported.any()
    assert np.all(np.isnan(model.estimate(model.sample_statistics(np.random.default_rng(0), 100))))
    assert copies_needed(model, 0.1, 0.05)["variance"] == np.inf


def test_gaussian_channel_and_noise_are_drawn_as_one_gaussian_with_the_exact_law():
    """The Gaussian-channel sampler draws Q normals per copy (channel + noise combined); its
    phases have mean W m and covariance W Sigma W^T + W C W^T (checked within 5 standard errors
    of each covariance entry, fixed seed), and the characteristic sums match Lambda(w) e^{-w C w/2}."""
    from sensing.physics.displacements import GaussianDisplacements

    channel = GaussianDisplacements(modes=3, variance=0.4, correlation=0.3, mean=0.2 + 0.1j)
    rng = np.random.default_rng(7)
    queries = 0.5 * (rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3)))
    noise = np.array([[0.3, 0.05], [0.05, 0.2]])
    model = DisplacementEstimateModel(channel, queries, noise)
    assert model._joint_law is not None
    copies = 200_000
    phases = model.sample_phases(np.random.default_rng(11), copies)
    w = query_vectors(queries)
    mean, cov = channel.moments()
    expected_cov = w @ cov @ w.T + model.noise_gram
    np.testing.assert_allclose(phases.mean(axis=0), w @ mean, atol=5 * np.sqrt(np.diag(expected_cov) / copies).max())
    empirical = np.cov(phases, rowvar=False)
    se = np.sqrt((expected_cov**2 + np.outer(np.diag(expected_cov), np.diag(expected_cov))) / copies)
    assert np.all(np.abs(empirical - expected_cov) < 5 * se)
