"""Qubit classical shadows through the framework: the qubit_state scene (checked against
Strawberry Fields' Fock backend and independent numpy states), the shadow detectors and the
shadow_prediction analysis (unbiasedness, the HKP bound, the 3^k variance bound)."""

import numpy as np
import pytest

from sensing.analyzers.shadows import ShadowPredictionSettings, make_payload, predict_payload, parse_pauli
from sensing.contracts.seeds import ANALYSIS_STREAM, stream
from sensing.contracts.states import QubitState, dense_pauli_expectations
from sensing.physics import shadows as sh
from sensing.testing import build_detector, build_scene

Z = 4.5  # tolerance in standard errors (fixed seeds)
PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0])}


def kron_pauli(string):
    out = np.ones((1, 1), dtype=complex)
    for c in string:
        out = np.kron(out, PAULI[c])
    return out


def ghz_density(n, depolarizing=0.0):
    """GHZ state built here (numpy), with per-qubit depolarising noise applied as Kraus maps."""
    psi = np.zeros(2**n, complex)
    psi[0] = psi[-1] = 1 / np.sqrt(2)
    rho = np.outer(psi, psi.conj())
    for q in range(n):
        ops = [np.kron(np.kron(np.eye(2**q), PAULI[c]), np.eye(2 ** (n - q - 1))) for c in "XYZ"]
        rho = (1 - depolarizing) * rho + depolarizing / 3 * sum(o @ rho @ o.conj().T for o in ops)
    return rho


def analysis_on(scene_kw, detector_kw, settings_kw, copies, seed=11):
    scene = build_scene(**scene_kw)
    detector = build_detector(**detector_kw)
    state = scene.prepare(detector.accepts)
    model = detector.outcome_model(state)
    payload = make_payload(model, detector, state, copies, stream(seed, ANALYSIS_STREAM, 0, 0))
    return predict_payload(payload, ShadowPredictionSettings(**settings_kw)), payload


@pytest.mark.parametrize("kw", [dict(state="ghz", qubits=2, transmissivity=0.9, depolarizing=0.05),
                                dict(state="product", qubits=3, labels="+r1", transmissivity=0.7, dephasing=0.1),
                                dict(state="haar", qubits=2, rank=2, transmissivity=0.8)])
def test_dual_rail_moments_match_strawberry_fields_fock_backend(kw):
    scene = build_scene(kind="qubit_state", **kw)
    np.testing.assert_allclose(scene.sf_photon_correlation(), scene.photon_correlation(), atol=1e-7)


def test_dual_rail_logical_state_from_sf_is_the_register():
    """SF Fock state of the encoded GHZ register through loss: the one-photon-per-rail-pair sector
    has weight eta^n and, renormalised, is the noisy register (numpy GHZ built here)."""
    from sensing.contracts.engine import run_fock

    n, eta, p = 2, 0.85, 0.05
    scene = build_scene(kind="qubit_state", state="ghz", qubits=n, transmissivity=eta, depolarizing=p)
    dm, trace = run_fock(scene.program(), cutoff=2)
    modes = 2 * n
    rho = np.transpose(dm, list(range(0, 2 * modes, 2)) + list(range(1, 2 * modes, 2))).reshape(4**n, 4**n)
    logical = [sum((((1 - ((b >> (n - 1 - q)) & 1)) << 1 | ((b >> (n - 1 - q)) & 1)) << (2 * (n - 1 - q))) for q in range(n))
               for b in range(2**n)]
    sector = rho[np.ix_(logical, logical)]
    assert np.real(np.trace(sector)) == pytest.approx(eta**n, abs=1e-7)
    np.testing.assert_allclose(sector / eta**n, ghz_density(n, p), atol=1e-7)


def test_exact_expectations_dense_and_stabilizer_agree_with_kron():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(8, 2)) + 1j * rng.normal(size=(8, 2))
    rho = g @ g.conj().T
    rho /= np.trace(rho)
    strings = ["XYZ", "IIZ", "YYI", "ZXY", "III"]
    exact = [np.real(np.trace(kron_pauli(s) @ rho)) for s in strings]
    np.testing.assert_allclose(dense_pauli_expectations(rho, strings), exact, atol=1e-12)
    cluster = build_scene(kind="qubit_state", state="cluster", qubits=4).prepare(QubitState)
    psi = cluster.dense()
    strings = ["XZII", "ZXZI", "IZXZ", "IIZX", "XIXI", "YYII"]
    np.testing.assert_allclose(cluster.expectations(strings), dense_pauli_expectations(psi, strings), atol=1e-12)


def test_parse_pauli_dense_and_sparse():
    assert parse_pauli("X0 Z3", 5) == "XIIZI"
    assert parse_pauli("xziiy", 5) == "XZIIY"
    for bad in ("XQ", "X0 X0", "X7"):
        with pytest.raises(ValueError, match=bad.split()[0]):
            parse_pauli(bad, 5)


def test_noisy_ghz_with_erasures_unbiased_against_numpy_ghz():
    """6-qubit GHZ with depolarising noise, loss and detector inefficiency: every mean prediction
    within Z s.e. of tr(P rho) computed here from the numpy GHZ state."""
    n, p = 6, 0.05
    strings = ["ZZIIII", "IIZIZI", "XXXXXX", "YYXXII", "XXIIII", "ZIIIIZ", "YYYYXX", "IZIIII"]
    out, payload = analysis_on(dict(kind="qubit_state", state="ghz", qubits=n, transmissivity=0.9, depolarizing=p),
                               dict(kind="pauli_shadow", efficiency=0.9), dict(observables=strings), [60_000])
    rho = ghz_density(n, p)
    exact = np.array([np.real(np.trace(kron_pauli(s) @ rho)) for s in strings])
    np.testing.assert_allclose(out["true_value"], exact, atol=1e-12)
    deviation = np.abs(out["mean_prediction"][0] - exact) / out["standard_error"][0]
    assert np.all(deviation < Z), deviation
    # erasures: a weight-k string keeps about (0.9*0.9)^k of the snapshots
    k = np.array([sh.pauli_weight(s) for s in strings])
    expected_used = 60_000 * 0.81**k
    assert np.all(np.abs(out["snapshots_used"][0] - expected_used) < Z * np.sqrt(expected_used))


def test_dense_state_and_clifford_detector_unbiased():
    """A Haar-random 2-qubit mixed state (task stream) measured by random Paulis and by random
    global Cliffords: both unbiased for tr(P rho) of the dense state."""
    strings = ["XY", "ZZ", "IX", "YI", {"name": "h", "terms": {"XX": 0.5, "ZI": -1.0}}]
    scene_kw = dict(kind="qubit_state", state="haar", qubits=2, rank=2, transmissivity=0.95, dephasing=0.1)
    for kind in ("pauli_shadow", "clifford_shadow"):
        out, _ = analysis_on(scene_kw, dict(kind=kind, efficiency=0.95), dict(observables=strings), [40_000])
        rho = build_scene(**scene_kw).prepare(QubitState).density_matrix()
        h = 0.5 * kron_pauli("XX") - kron_pauli("ZI")
        exact = [np.real(np.trace(kron_pauli(s) @ rho)) for s in strings[:4]] + [np.real(np.trace(h @ rho))]
        np.testing.assert_allclose(out["true_value"], exact, atol=1e-12)
        deviation = np.abs(out["mean_prediction"][0] - exact) / out["standard_error"][0]
        assert np.all(deviation < Z), (kind, deviation)


def test_k_local_errors_within_hkp_bound_and_variance_3k():
    """20-qubit noisy cluster state, its 18 bulk stabilizers and 400 random Pauli strings of weight
    1-4, 10^5 snapshots:
    (a) every weight-k prediction within the HKP Theorem 1 accuracy sqrt(34 3^k K / (N s^k))
    (PHYSICS 4.1 constants; holds for all M with probability >= 1 - delta); (b) the mean squared
    error of the mean estimates of weight-k strings within the variance bound 3^k / N_used
    (plus Z standard errors of the average of squared errors)."""
    from sensing.analyzers.shadows import prediction_dataset

    stabilizers = [f"Z{v - 1} X{v} Z{v + 1}" for v in range(1, 19)]
    settings = dict(observables=stabilizers, random_paulis={"count": 400, "max_weight": 4}, delta=0.01)
    out, _ = analysis_on(dict(kind="qubit_state", state="cluster", qubits=20, transmissivity=0.95, depolarizing=0.02),
                         dict(kind="pauli_shadow"), settings, [100_000])
    ds = prediction_dataset([out], ["pauli"], [100_000], ShadowPredictionSettings(**settings))
    assert np.all(out["true_value"][:18] > 0.85)
    max_error = ds["max_error"].isel(detector=0, copies=0).values
    bound = ds["error_bound"].isel(detector=0, copies=0).values
    assert np.all(max_error <= bound), (max_error, bound)
    assert bound[2] < 0.6  # the check has teeth: a sign error on a stabilizer (|error| ~ 1.8) would break it
    for k in range(1, 5):
        cols = np.flatnonzero(out["weights"] == k)
        sq = (out["mean_prediction"][0, cols] - out["true_value"][cols]) ** 2
        allowed = np.mean(3.0**k / out["snapshots_used"][0, cols])
        assert sq.mean() <= allowed + Z * sq.std(ddof=1) / np.sqrt(len(cols)), (k, sq.mean(), allowed)


def test_renyi2_and_fidelity_of_noisy_ghz_against_numpy():
    """Purity of one and two qubits of a noisy GHZ and its fidelity with the ideal GHZ state,
    against the numpy state built here."""
    n, p = 4, 0.05
    settings = dict(fidelity=True, renyi2_subsystems=[[0], [1, 2]])
    out, _ = analysis_on(dict(kind="qubit_state", state="ghz", qubits=n, depolarizing=p), dict(kind="pauli_shadow"),
                         settings, [40_000])
    rho = ghz_density(n, p)
    ideal = ghz_density(n, 0.0)
    fidelity = np.real(np.trace(ideal @ rho))

    def reduced(r, keep):
        t = r.reshape((2,) * 2 * n)
        for q in sorted(set(range(n)) - set(keep), reverse=True):
            t = np.trace(t, axis1=q, axis2=q + t.ndim // 2)
        d = 2 ** len(keep)
        return t.reshape(d, d)

    purity = [np.real(np.trace(np.linalg.matrix_power(reduced(rho, a), 2))) for a in ([0], [1, 2])]
    names = out["names"]
    exact = {"fidelity": fidelity, "purity[0]": purity[0], "purity[1,2]": purity[1]}
    for name, value in exact.items():
        j = names.index(name)
        assert out["true_value"][j] == pytest.approx(value, abs=1e-12)
        assert abs(out["mean_prediction"][0, j] - value) < Z * out["standard_error"][0, j], name
