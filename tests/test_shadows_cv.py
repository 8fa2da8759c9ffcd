"""Continuous-variable classical shadows through the framework: the cv_state scene against SF's
Gaussian backend and numpy states, pattern functions (F_00 closed form), PHYSICS 4.2 checkpoints
with random-phase homodyne, heterodyne moments, efficiency correction."""

import numpy as np
import pytest
from scipy.special import dawsn, factorial

from sensing.analyzers.shadows import ShadowPredictionSettings, make_payload, predict_payload
from sensing.contracts.seeds import ANALYSIS_STREAM, stream
from sensing.contracts.states import FockState, GaussianState
from sensing.physics.cv_shadows import pattern_function
from sensing.testing import build_detector, build_scene

Z = 4.5
DB = 20 / np.log(10)  # dB per unit of r


def predictions(scene_kw, detector_kw, settings_kw, copies, seed=3):
    scene = build_scene(**scene_kw)
    detector = build_detector(**detector_kw)
    state = scene.prepare(detector.accepts)
    payload = make_payload(detector.outcome_model(state), detector, state, copies, stream(seed, ANALYSIS_STREAM, 0, 0))
    out = predict_payload(payload, ShadowPredictionSettings(**settings_kw))
    return {n: (out["mean_prediction"][0, j], out["standard_error"][0, j], out["true_value"][j]) for j, n in enumerate(out["names"])}


def test_pattern_function_f00_closed_form():
    x = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(pattern_function(0, 0, x), 2 - 4 * x * dawsn(x), atol=1e-6)


def coherent_vector(alpha, d):
    n = np.arange(d)
    return np.exp(-abs(alpha) ** 2 / 2) * alpha**n / np.sqrt(factorial(n))


def test_cat_scene_is_the_numpy_cat_state():
    d = 20
    scene = build_scene(kind="cv_state", state="cat", alpha=[1.2, 0.0], cat_parity="odd", transmissivity=0.7, cutoff=d)
    state = scene.prepare(FockState)
    cat = coherent_vector(1.2, d) - coherent_vector(-1.2, d)
    cat /= np.linalg.norm(cat)
    np.testing.assert_allclose(state.reference, np.outer(cat, cat.conj()), atol=1e-8)
    # loss of an odd cat: photon number eta <n>
    n = np.arange(d)
    assert np.real(np.trace(np.diag(n) @ state.density_matrix)) == pytest.approx(0.7 * np.sum(n * abs(cat) ** 2), rel=1e-8)


def test_gaussian_moments_match_sf_gaussian_backend():
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    a, r, phi, eta = 0.5 + 0.3j, 3 / DB, 0.4, 0.8
    scene = build_scene(kind="cv_state", state="displaced_squeezed", alpha=[0.5, 0.3], squeezing_db=3.0, squeezing_angle=phi,
                        transmissivity=eta, cutoff=30)
    prog = sf.Program(1)
    with prog.context as q:
        sf.ops.DisplacedSqueezed(abs(a), np.angle(a), r, phi) | q[0]
        sf.ops.LossChannel(eta) | q[0]
    ref = sf.Engine("gaussian").run(prog).state
    g = scene.prepare(GaussianState)
    np.testing.assert_allclose(g.cov, ref.cov(), atol=1e-8)
    np.testing.assert_allclose(g.means, ref.means(), atol=1e-8)


@pytest.mark.parametrize("efficiency", [1.0, 0.9])
def test_physics_4_2_checkpoints_coherent_state(efficiency):
    """Coherent alpha = 0.8+0.3i: rho_00, rho_10, rho_20 (closed forms) within 3 s.e., with an ideal
    detector and with a 90 % efficient one corrected by the loss-inverting pattern functions."""
    alpha = 0.8 + 0.3j
    out = predictions(dict(kind="cv_state", state="coherent", alpha=[0.8, 0.3], cutoff=16),
                      dict(kind="random_phase_homodyne", efficiency=efficiency),
                      dict(density_elements=[[0, 0], [1, 0], [2, 0]]), [100_000])
    p0 = np.exp(-abs(alpha) ** 2)
    exact = {"rho[0,0]": p0, "rho[1,0]": alpha * p0, "rho[2,0]": alpha**2 / np.sqrt(2) * p0}
    for name, value in exact.items():
        for part, v in (("real", value.real), ("imag", np.imag(value))):
            mean, se, true = out[f"{name}.{part}"]
            assert true == pytest.approx(v, abs=1e-9)
            assert abs(mean - v) <= 3 * se, (name, part, mean, v, se)


def test_physics_4_2_checkpoints_squeezed_vacuum():
    """Squeezed vacuum r = 0.5: rho_00 = 1/cosh r, rho_20 = -tanh r/(sqrt2 cosh r), rho_11 = 0 within 3 s.e."""
    r = 0.5
    out = predictions(dict(kind="cv_state", state="squeezed", squeezing_db=r * DB, cutoff=24),
                      dict(kind="random_phase_homodyne"), dict(density_elements=[[0, 0], [2, 0], [1, 1]]), [100_000])
    exact = {"rho[0,0].real": 1 / np.cosh(r), "rho[2,0].real": -np.tanh(r) / (np.sqrt(2) * np.cosh(r)), "rho[1,1].real": 0.0}
    for name, v in exact.items():
        mean, se, true = out[name]
        assert true == pytest.approx(v, abs=1e-7)
        assert abs(mean - v) < 3 * se, (name, mean, v, se)


def test_heterodyne_moments_of_squeezed_thermal_through_loss():
    """<n>, <x>, <x^2>, <p^2> (hbar = 1) of a displaced squeezed state through loss from heterodyne with
    a 80 % efficient detector (corrected), against the closed forms."""
    r, eta, a = 3 / DB, 0.8, 0.4 + 0.2j
    out = predictions(dict(kind="cv_state", state="displaced_squeezed", alpha=[0.4, 0.2], squeezing_db=3.0,
                           transmissivity=eta, cutoff=24),
                      dict(kind="heterodyne_shadow", efficiency=0.8),
                      dict(mean_photon_number=True, quadrature_moments=[[1, 0.0], [2, 0.0], [2, np.pi / 2]]), [60_000])
    # hbar = 1: squeezed vacuum Var x = e^{-2r}/2, Var p = e^{2r}/2; loss: V -> eta V + (1-eta)/2
    vx, vp = eta * np.exp(-2 * r) / 2 + (1 - eta) / 2, eta * np.exp(2 * r) / 2 + (1 - eta) / 2
    mx, mp = np.sqrt(2 * eta) * a.real, np.sqrt(2 * eta) * a.imag
    exact = {"mean_photon_number": (vx + mx**2 + vp + mp**2 - 1) / 2, "x^1[phi=0]": mx, "x^2[phi=0]": vx + mx**2,
             f"x^2[phi={np.pi / 2:g}]": vp + mp**2}
    for name, v in exact.items():
        mean, se, true = out[name]
        assert true == pytest.approx(v, abs=1e-6), name
        assert abs(mean - v) < Z * se, (name, mean, v, se)
    assert np.isfinite(out["mean_photon_number"][0])


def test_homodyne_fidelity_wigner_photon_numbers_of_lossy_cat():
    """Even cat alpha = 1 through 85 % loss, 90 % detector (corrected): fidelity with the lossless cat,
    W(0) and p(n) against the exact values of the lossy state (the scene's SF density matrix,
    checked against numpy above)."""
    out = predictions(dict(kind="cv_state", state="cat", alpha=[1.0, 0.0], transmissivity=0.85, cutoff=14),
                      dict(kind="random_phase_homodyne", efficiency=0.9),
                      dict(fidelity=True, wigner_points=[[0.0, 0.0]], photon_numbers=4, mean_photon_number=True), [60_000])
    scene = build_scene(kind="cv_state", state="cat", alpha=[1.0, 0.0], transmissivity=0.85, cutoff=14)
    rho = scene.prepare(FockState).density_matrix
    parity = np.real(np.sum(np.diag(rho) * (-1.0) ** np.arange(len(rho))))
    cat = coherent_vector(1.0, 14) + coherent_vector(-1.0, 14)
    cat /= np.linalg.norm(cat)
    exact = {"fidelity": np.real(cat.conj() @ rho @ cat), "wigner[0+0j]": 2 / np.pi * parity,
             **{f"p[{n}]": np.real(rho[n, n]) for n in range(4)}}
    for name, v in exact.items():
        mean, se, true = out[name]
        assert true == pytest.approx(v, abs=1e-9), name
        assert abs(mean - v) < Z * se, (name, mean, v, se)


def test_heterodyne_has_no_fock_element_estimator():
    out = predictions(dict(kind="cv_state", state="coherent", alpha=[0.5, 0.0], cutoff=12), dict(kind="heterodyne_shadow"),
                      dict(density_elements=[[0, 0]]), [2000])
    assert np.isnan(out["rho[0,0].real"][0]) and np.isfinite(out["rho[0,0].real"][2])


def test_pattern_correction_refused_at_low_efficiency():
    with pytest.raises(ValueError, match="efficiency > 1/2"):
        predictions(dict(kind="cv_state", state="coherent", alpha=[0.5, 0.0], cutoff=12),
                    dict(kind="random_phase_homodyne", efficiency=0.4), dict(density_elements=[[0, 0]]), [1000])
