"""Qubit classical shadows and two-copy Bell sampling against closed forms and numpy-built states.

Statistical checks use fixed seeds and tolerances in standard errors: 4 s.e. for one quantity and, for
M quantities checked at once, the Bonferroni threshold of a 1e-4 family-wise false-alarm rate
(z = 4.8 for M = 63) (PHYSICS.md 4.1, 5.2, 8).
"""

import itertools
import math
from functools import reduce

import numpy as np
import pytest
from scipy.stats import norm

from sensing.physics import bell_sampling as bell
from sensing.physics import shadows as sh

SIGMAS = 4.0
PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.diag([1.0, -1.0]).astype(complex),
}


def pauli_matrix(string):
    return reduce(np.kron, [PAULI[c] for c in string])


def exact_expectation(rho, string):
    return float(np.real(np.trace(rho @ pauli_matrix(string))))


def random_density_matrix(rng, qubits, rank=2):
    g = rng.normal(size=(2**qubits, rank)) + 1j * rng.normal(size=(2**qubits, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def graph_state_numpy(qubits, edges):
    """Dense graph state prod CZ |+>^n, built without stim."""
    plus = np.full(2**qubits, 2 ** (-qubits / 2), dtype=complex)
    bits = (np.arange(2**qubits)[:, None] >> np.arange(qubits - 1, -1, -1)[None]) & 1
    phase = np.ones(2**qubits)
    for u, v in edges:
        phase *= (-1.0) ** (bits[:, u] * bits[:, v])
    return plus * phase


def embed(qubits, letters):
    """Pauli string with the given {site: letter} on n qubits."""
    chars = ["I"] * qubits
    for site, letter in letters.items():
        chars[site] = letter
    return "".join(chars)


def assert_within(estimate, exact, standard_error, family_false_alarm=1e-4):
    estimate, exact, standard_error = map(np.atleast_1d, map(np.asarray, (estimate, exact, standard_error)))
    sigmas = max(SIGMAS, norm.isf(family_false_alarm / (2 * estimate.size)))
    z = np.abs(estimate - exact) / standard_error
    assert np.all(z < sigmas), f"max |z| = {z.max():.2f}: estimate {estimate}, exact {exact}, s.e. {standard_error}"


# ---------------------------------------------------------------- stabilizer states


def test_stim_graph_state_matches_numpy_graph_state():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 4)]
    psi_stim = sh.stabilizer_state_vector(sh.graph_state_circuit(5, edges))
    psi_np = graph_state_numpy(5, edges)
    assert abs(np.vdot(psi_np, psi_stim)) == pytest.approx(1.0, abs=1e-6)  # stim: float32 amplitudes


def test_ghz_50_qubit_local_expectations_closed_form():
    # GHZ: <Z_i Z_j> = 1; any string with X/Y on fewer than n sites, or an odd number of Z, is 0.
    n = 50
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(n), 12_000, np.random.default_rng(11))
    observables = {
        embed(n, {0: "Z", 1: "Z"}): 1.0,
        embed(n, {7: "Z", 41: "Z"}): 1.0,
        embed(n, {3: "Z"}): 0.0,
        embed(n, {0: "X"}): 0.0,
        embed(n, {0: "X", 1: "X"}): 0.0,
        embed(n, {5: "Y", 6: "Y"}): 0.0,
        embed(n, {10: "Z", 20: "Z", 30: "Z", 40: "Z"}): 1.0,
    }
    est = sh.estimate_observables(snaps, list(observables))
    assert_within(est.mean, list(observables.values()), est.standard_error)
    assert np.all(est.snapshots_used == 12_000)


def test_small_ghz_full_weight_strings_closed_form():
    # <X^{n-m} Y^m> = Re(i^m) on GHZ_4: XXXX -> 1, XXYY -> -1, XYYY -> 0.
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(4), 20_000, np.random.default_rng(12))
    est = sh.estimate_observables(snaps, ["XXXX", "XXYY", "YXYX", "XYYY", "ZZZZ"])
    assert_within(est.mean, [1, -1, -1, 0, 1], est.standard_error)


def test_cluster_state_100_qubits_stabilizers():
    n = 100
    circuit = sh.cluster_state_circuit(n)
    generators = {str(g) for g in sh.stabilizer_generators(circuit)}
    assert len(generators) == n
    snaps = sh.sample_stabilizer_snapshots(circuit, 6_000, np.random.default_rng(13))
    k_50 = embed(n, {49: "Z", 50: "X", 51: "Z"})  # K_v = Z X Z
    k_50_k_51 = embed(n, {49: "Z", 50: "Y", 51: "Y", 52: "Z"})  # K_50 K_51 = Z Y Y Z
    edge = embed(n, {0: "X", 1: "Z"})  # K_0
    observables = [k_50, k_50_k_51, edge, embed(n, {50: "X"}), embed(n, {50: "Z", 51: "Z"})]
    est = sh.estimate_observables(snaps, observables)
    assert_within(est.mean, [1, 1, 1, 0, 0], est.standard_error)


# ---------------------------------------------------------------- generic dense states


def test_dense_random_three_qubit_state_all_paulis_unbiased():
    rng = np.random.default_rng(21)
    rho = random_density_matrix(rng, 3, rank=2)
    strings = ["".join(p) for p in itertools.product("IXYZ", repeat=3)][1:]
    snaps = sh.sample_dense_snapshots(rho, 30_000, rng)
    est = sh.estimate_observables(snaps, strings)
    exact = [exact_expectation(rho, s) for s in strings]
    assert_within(est.mean, exact, est.standard_error)
    # the estimate must resolve the state: mean |z| of order 1, not of order the signal
    assert np.mean(np.abs(est.mean - exact) / est.standard_error) < 1.5


def test_dense_sampler_reproduces_stabilizer_sampler_statistics():
    # same GHZ_3 through both samplers: identical law, so estimates agree within errors
    rng = np.random.default_rng(22)
    psi = sh.stabilizer_state_vector(sh.ghz_circuit(3))
    dense = sh.estimate_observables(sh.sample_dense_snapshots(psi, 20_000, rng), ["XXX", "XYY", "ZZI", "ZII"])
    assert_within(dense.mean, [1, -1, 1, 0], dense.standard_error)


def test_single_shot_second_moment_is_three_to_the_k():
    # PHYSICS 4.1: E[(3^k prod b)^2] = 3^k for any state (MC there: 3.02, 9.03, 27.24, 80.15).
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(4), 30_000, np.random.default_rng(23))
    strings = ["XIII", "XZII", "XZYI", "XZYX"]
    shots = sh.single_shot_estimates(snaps, strings)
    second = (shots**2).mean(axis=1)
    for k, (value, row) in enumerate(zip(second, shots), start=1):
        se = (row**2).std(ddof=1) / np.sqrt(row.size)
        assert abs(value - 3**k) < SIGMAS * se, (k, value)


# ---------------------------------------------------------------- median of means and budgets


def test_snapshot_budget_table_physics_4_1():
    assert sh.snapshots_needed(1000, 2, 0.1, 0.01) == (25, 30_600, 765_000)
    assert sh.snapshots_needed(10**4, 3, 0.05, 0.01) == (30, 367_200, 11_016_000)
    assert sh.snapshots_needed(100, 4, 0.1, 0.05) == (17, 275_400, 4_681_800)
    assert sh.shadow_norm_squared("XIZ") == 9.0
    assert sh.shadow_norm_squared({"XIZ": 0.5, "IZI": -1.0, "III": 3.0}) == pytest.approx((0.5 * 3 + 3**0.5) ** 2)
    assert sh.snapshots_needed(1000, 2, 0.1, 0.01, loss=0.2).per_batch == math.ceil(30_600 / 0.8**2)
    assert sh.shadow_budget(["ZZ", {"XY": 1.0}], 0.1, 0.01).per_batch == 30_600


def test_median_of_means_errors_within_hkp_epsilon():
    # M = 150 random 2-local Paulis on GHZ_20 (exact: 1 for ZZ, 0 otherwise), eps = 0.3, delta = 0.05.
    n, m, epsilon, delta = 20, 150, 0.3, 0.05
    rng = np.random.default_rng(31)
    strings = set()
    while len(strings) < m:
        i, j = rng.choice(n, 2, replace=False)
        a, b = rng.choice(list("XYZ"), 2) if rng.random() < 0.7 else ("Z", "Z")
        strings.add(embed(n, {i: a, j: b}))
    strings = sorted(strings)
    exact = np.array([1.0 if s.count("Z") == 2 else 0.0 for s in strings])
    budget = sh.snapshots_needed(m, 2, epsilon, delta)
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(n), budget.total, rng)
    est = sh.estimate_observables(snaps, strings, batches=budget.batches)
    errors = np.abs(est.estimate - exact)
    assert errors.max() <= epsilon
    # the HKP bound is loose: the observed error is ~4 s.e. of one batch, far below eps
    assert errors.max() < SIGMAS * np.sqrt(9 / budget.per_batch) * 1.5


def test_k_local_hamiltonian_energy_and_correlators():
    # transverse-field Ising H = -sum Z_i Z_{i+1} - 0.5 sum X_i on GHZ_12: <H> = -(n - 1);
    # magnetisation sum Z_i / n: 0; two-point <Z_0 Z_6> - <Z_0><Z_6> = 1.
    n = 12
    hamiltonian = {embed(n, {i: "Z", i + 1: "Z"}): -1.0 for i in range(n - 1)}
    hamiltonian.update({embed(n, {i: "X"}): -0.5 for i in range(n)})
    magnetisation = {embed(n, {i: "Z"}): 1 / n for i in range(n)}
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(n), 20_000, np.random.default_rng(32))
    est = sh.estimate_observables(snaps, [hamiltonian, magnetisation, embed(n, {0: "Z", 6: "Z"})])
    assert_within(est.mean, [-(n - 1), 0.0, 1.0], est.standard_error)


# ---------------------------------------------------------------- noise and erasure


def test_depolarising_and_dephasing_scale_cluster_stabilizer():
    # K_1 = Z X Z on a 6-qubit cluster: (1 - 4p/3)^3 (1 - 2q)^1.
    p, q = 0.1, 0.05
    rng = np.random.default_rng(41)
    snaps = sh.sample_stabilizer_snapshots(sh.cluster_state_circuit(6), 25_000, rng)
    noisy = sh.apply_pauli_noise(snaps, rng, depolarizing=p, dephasing=q)
    est = sh.estimate_observables(noisy, ["ZXZIII", "IZZIII", "XZIIII"])
    expected = [(1 - 4 * p / 3) ** 3 * (1 - 2 * q), 0.0, (1 - 4 * p / 3) ** 2 * (1 - 2 * q)]
    assert_within(est.mean, expected, est.standard_error)
    factor = sh.pauli_noise_attenuation(["ZXZIII", "XZIIII"], depolarizing=p, dephasing=q)
    np.testing.assert_allclose(factor, [expected[0], expected[2]], rtol=1e-12)
    assert_within(est.mean[[0, 2]] / factor, [1.0, 1.0], est.standard_error[[0, 2]] / factor)


def test_erasure_ratio_estimator_is_unbiased():
    loss = 0.3
    rng = np.random.default_rng(42)
    snaps = sh.apply_erasure(sh.sample_stabilizer_snapshots(sh.cluster_state_circuit(8), 40_000, rng), rng, loss)
    strings = ["IZXZIIII", "IZYYZIII", "XZIIIIII", "IIIXIIII"]
    est = sh.estimate_observables(snaps, strings)
    assert_within(est.mean, [1, 1, 1, 0], est.standard_error)
    # usable snapshots: Binomial(N, (1-loss)^k)
    for s, used in zip(strings, est.snapshots_used):
        keep = (1 - loss) ** sh.pauli_weight(s)
        assert abs(used - 40_000 * keep) < SIGMAS * np.sqrt(40_000 * keep * (1 - keep))
    # ignoring the flags (erased bits are coin flips) is biased by the factor (1-loss)^k
    naive = sh.estimate_observables(sh.PauliSnapshots(snaps.bases, snaps.bits, np.zeros_like(snaps.erased)), strings[:1])
    assert abs(naive.mean[0] - (1 - loss) ** 3) < SIGMAS * naive.standard_error[0]
    assert abs(naive.mean[0] - 1) > 10 * naive.standard_error[0]


# ---------------------------------------------------------------- Renyi-2, fidelity, Clifford shadows


def test_renyi2_entropy_ghz_and_random_state():
    snaps = sh.sample_stabilizer_snapshots(sh.ghz_circuit(6), 20_000, np.random.default_rng(51))
    for sites in ([0], [2, 3]):
        r = sh.renyi2_entropy(snaps, sites)  # rho_A = (|0..0><0..0| + |1..1><1..1|)/2: purity 1/2
        assert abs(r.purity - 0.5) < SIGMAS * r.purity_standard_error
        assert abs(r.entropy - 1.0) < SIGMAS * r.entropy_standard_error
    rng = np.random.default_rng(52)
    rho = random_density_matrix(rng, 3, rank=3)
    rho_a = np.einsum("aibi->ab", rho.reshape(4, 2, 4, 2))  # trace out qubit 2
    exact = float(np.real(np.trace(rho_a @ rho_a)))
    r = sh.renyi2_entropy(sh.sample_dense_snapshots(rho, 30_000, rng), [0, 1])
    assert abs(r.purity - exact) < SIGMAS * r.purity_standard_error


def test_stabilizer_fidelity_exact_and_sampled():
    rng = np.random.default_rng(61)
    target = sh.ghz_circuit(3)
    plus = np.full(8, 8**-0.5)  # |+++>: |<+++|GHZ>|^2 = 1/4
    snaps = sh.sample_dense_snapshots(plus, 30_000, rng)
    exact = sh.stabilizer_fidelity(snaps, target)
    assert exact.group_elements == 8
    assert abs(exact.fidelity - 0.25) < SIGMAS * exact.standard_error
    sampled = sh.stabilizer_fidelity(snaps, target, rng=rng, group_samples=400)
    assert abs(sampled.fidelity - 0.25) < SIGMAS * sampled.standard_error
    ghz = sh.stabilizer_fidelity(sh.sample_stabilizer_snapshots(target, 30_000, rng), target)
    assert abs(ghz.fidelity - 1.0) < SIGMAS * ghz.standard_error


def test_clifford_shadows_unbiased_small_n():
    assert [len(sh.stabilizer_states(n)) for n in (1, 2, 3)] == [6, 60, 1080]
    rng = np.random.default_rng(71)
    rho = random_density_matrix(rng, 3, rank=2)
    snaps = sh.sample_clifford_snapshots(rho, 20_000, rng)
    h = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    for observable in (pauli_matrix("XYZ"), pauli_matrix("ZZI"), (h + h.conj().T) / 4, rho):
        est = sh.clifford_expectation(snaps, observable)
        exact = np.real(np.trace(observable @ rho))
        assert abs(est.mean[0] - exact) < SIGMAS * est.standard_error[0]


# ---------------------------------------------------------------- Bell sampling (PHYSICS 5.2)


def test_bell_sampling_expectation_is_squared_pauli_exactly():
    rng = np.random.default_rng(81)
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    psi /= np.linalg.norm(psi)
    rho = np.outer(psi, psi.conj())
    probs = bell.bell_outcome_probabilities(psi).reshape(-1)
    outcomes = np.array(list(itertools.product(range(4), repeat=3)), dtype=np.uint8)
    strings = ["".join(p) for p in itertools.product("IXYZ", repeat=3)]
    table = bell.bell_sign_table(outcomes, strings)
    expected = table @ probs
    exact = np.array([exact_expectation(rho, s) ** 2 for s in strings])
    np.testing.assert_allclose(expected, exact, atol=1e-12)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)


def test_bell_sampling_monte_carlo_and_purity():
    rng = np.random.default_rng(82)
    rho = random_density_matrix(rng, 3, rank=2)
    strings = ["".join(p) for p in itertools.product("IXYZ", repeat=3)][1:]
    outcomes = bell.sample_bell_outcomes(rho, 40_000, rng)
    est = bell.estimate_squared_paulis(outcomes, strings)
    exact = [exact_expectation(rho, s) ** 2 for s in strings]
    assert_within(est.squared_expectation, exact, est.standard_error)
    purity = bell.estimate_purity(outcomes)
    assert abs(purity.purity - np.real(np.trace(rho @ rho))) < SIGMAS * purity.standard_error
    psi = np.linalg.eigh(rho)[1][:, -1]
    assert bell.estimate_purity(bell.sample_bell_outcomes(psi, 2_000, rng)).purity == 1.0


def test_bell_sample_count_table():
    assert bell.bell_samples_needed(4**20, 0.1, 0.05) == pytest.approx(6.3e5, rel=0.01)
    assert bell.bell_samples_needed(4**20, 0.2, 0.05) == pytest.approx(3.9e4, rel=0.01)
    assert bell.bell_samples_needed(4**40, 0.1, 0.05) == pytest.approx(1.2e6, rel=0.02)


@pytest.mark.parametrize("batches", [1, 7])
def test_bit_packed_estimator_equals_direct_single_shot_average(batches):
    # arbitrary (non-physical) snapshots with erasures: the bit-packed median of means must equal the
    # direct computation from single-shot values, to rounding
    rng = np.random.default_rng(91)
    total, n = 2_240, 70  # 2240 = 35 blocks of 64 snapshots (K = 1 and K = 7 both use whole blocks)
    snaps = sh.PauliSnapshots(
        rng.integers(0, 3, (total, n), dtype=np.uint8),
        rng.integers(0, 2, (total, n), dtype=np.uint8),
        rng.random((total, n)) < 0.1,
    )
    strings = ["".join(rng.choice(list("IXYZ"), n, p=[0.94, 0.02, 0.02, 0.02])) for _ in range(40)]
    strings += ["I" * n, "Z" + "I" * (n - 1)]
    shots = sh.single_shot_estimates(snaps, strings)
    est = sh.estimate_observables(snaps, strings, batches=batches)
    np.testing.assert_allclose(est.mean, np.nanmean(shots, axis=1), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(est.snapshots_used, np.sum(~np.isnan(shots), axis=1))
    per_batch = total // batches
    medians = np.median([np.nanmean(shots[:, b * per_batch:(b + 1) * per_batch], axis=1) for b in range(batches)], axis=0)
    np.testing.assert_allclose(est.estimate, medians, rtol=0, atol=1e-12)
    # a weighted sum is the same linear combination
    combo = sh.estimate_observables(snaps, [{strings[0]: 0.5, strings[1]: -2.0}]).mean[0]
    assert combo == pytest.approx(0.5 * est.mean[0] - 2.0 * est.mean[1], abs=1e-12)
