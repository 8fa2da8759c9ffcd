r"""Classical shadows of qubit states: random Pauli and random Clifford snapshots, estimators.

Pure functions (arrays in, arrays out); no configs, files or engines.

Conventions
-----------
* A random-Pauli snapshot of ``n`` qubits is a row of ``bases`` (``0 = X, 1 = Y, 2 = Z``, dtype
  ``uint8``) and a row of ``bits``: bit ``1`` means the measured eigenvalue of
  :math:`\sigma_{b_i}` was :math:`-1`, bit ``0`` means :math:`+1`.  ``erased`` flags sites whose qubit
  was lost (e.g. a dual-rail photon that never arrived); their bit carries no information.
* Dense states are big-endian: qubit 0 is the most significant bit of the basis index (numpy ``kron``
  order, ``kron(q0, q1, ...)``).
* Pauli strings are written ``"XZIIY"`` (character ``i`` acts on qubit ``i``).

Snapshot and single-shot estimator (Huang, Kueng, Preskill 2020, Eq. (S38) and PHYSICS.md 4.1):

.. math::

    \hat\rho = \bigotimes_{i=1}^n \left(3\,U_i^\dagger|b_i\rangle\langle b_i|U_i - I\right),\qquad
    \widehat{\operatorname{tr}(P\rho)} = 3^k \prod_{i\in\operatorname{supp}P} (-1)^{\text{bit}_i}
    \ \text{if } b_i = P_i\ \forall i\in\operatorname{supp}P,\ \text{else } 0,

with second moment :math:`3^k` (:math:`k` = weight of :math:`P`).

Two-copy Bell sampling (estimates of :math:`\operatorname{tr}(P\rho)^2` for all P) is in
:mod:`sensing.physics.bell_sampling`; CV shadows in :mod:`sensing.physics.cv_shadows`.

References
----------
.. [HKP20] H.-Y. Huang, R. Kueng, J. Preskill, "Predicting many properties of a quantum system from
   very few measurements", Nat. Phys. 16, 1050 (2020), arXiv:2002.08953.
.. [AG04] S. Aaronson, D. Gottesman, "Improved simulation of stabilizer circuits", PRA 70, 052328
   (2004) (the tableau simulator behind ``stim``).
.. [EKH20] A. Elben et al., "Mixed-state entanglement from local randomized measurements", PRL 125,
   200501 (2020) (Renyi-2 from pairs of randomized-measurement snapshots).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple, Sequence, Union

import numpy as np
import stim
from scipy import sparse

#: Basis codes.
X, Y, Z = 0, 1, 2
#: Code of the identity in parsed Pauli strings.
IDENTITY = 3
_LETTER_CODE = {"X": X, "Y": Y, "Z": Z, "I": IDENTITY}
#: Largest qubit number for dense (state-vector) routines.
MAX_DENSE_QUBITS = 14

Observable = Union[str, dict]


class PauliSnapshots(NamedTuple):
    """Random-Pauli-basis snapshots.

    Attributes
    ----------
    bases : ndarray of uint8, shape (snapshots, qubits)
        Measured basis per site, ``0 = X, 1 = Y, 2 = Z``.
    bits : ndarray of uint8, shape (snapshots, qubits)
        Outcome bit per site; eigenvalue :math:`(-1)^{\\text{bit}}`.
    erased : ndarray of bool, shape (snapshots, qubits)
        ``True`` where the qubit was lost (erasure); such sites are ignored by all estimators.
    """

    bases: np.ndarray
    bits: np.ndarray
    erased: np.ndarray


class ShadowEstimate(NamedTuple):
    """Shadow prediction of ``observables`` expectation values (one entry per observable).

    Attributes
    ----------
    estimate : ndarray (observables,)
        Median over the ``batches`` batch means (equals ``mean`` when ``batches == 1``).
    mean : ndarray (observables,)
        Mean over all usable snapshots.
    standard_error : ndarray (observables,)
        Standard error of ``mean``, from the spread of at least 32 equal blocks of snapshots.
    snapshots_used : ndarray of int (observables,)
        Snapshots in which every site of the observable's support survived (minimum over the Pauli
        terms of a sum).
    batches : int
        Number of median-of-means batches.
    """

    estimate: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    snapshots_used: np.ndarray
    batches: int


class SnapshotBudget(NamedTuple):
    """Median-of-means budget of [HKP20]_ Theorem 1: ``batches`` batches of ``per_batch`` snapshots."""

    batches: int
    per_batch: int
    total: int


class Renyi2Estimate(NamedTuple):
    """Purity :math:`\\operatorname{tr}\\rho_A^2` and :math:`S_2 = -\\log_2 \\operatorname{tr}\\rho_A^2`
    with standard errors (first-order Hoeffding projection of the U-statistic; delta method for
    :math:`S_2`) and the number of snapshots in which every site of ``A`` survived."""

    purity: float
    purity_standard_error: float
    entropy: float
    entropy_standard_error: float
    snapshots_used: int


class FidelityEstimate(NamedTuple):
    """Fidelity :math:`\\langle\\psi|\\rho|\\psi\\rangle` with a stabilizer state and its standard error;
    ``group_elements`` is how many stabilizer-group elements were averaged (``2**n`` if exact)."""

    fidelity: float
    standard_error: float
    group_elements: int


class CliffordSnapshots(NamedTuple):
    """Random-Clifford snapshots :math:`\\hat\\rho = (2^n+1)\\,|v\\rangle\\langle v| - I` with
    :math:`|v\\rangle = U^\\dagger|b\\rangle`.

    Attributes
    ----------
    vectors : ndarray complex, shape (snapshots, 2**n)
        :math:`U^\\dagger|b\\rangle` per snapshot (big-endian).
    """

    vectors: np.ndarray


# --------------------------------------------------------------------------------------------------
# Stabilizer states
# --------------------------------------------------------------------------------------------------


def product_state_circuit(labels: str) -> stim.Circuit:
    """Circuit preparing a product stabilizer state from ``|0...0>``.

    Parameters
    ----------
    labels : str
        One character per qubit: ``0, 1`` (Z eigenstates), ``+, -`` (X), ``r, l`` (Y: :math:`|\\pm i\\rangle`).

    Returns
    -------
    stim.Circuit
    """
    gates = {"0": [], "1": ["X"], "+": ["H"], "-": ["X", "H"], "r": ["H", "S"], "l": ["X", "H", "S"]}
    circuit = stim.Circuit()
    for qubit, label in enumerate(labels):
        if label not in gates:
            raise ValueError(f"product state label {label!r} at qubit {qubit}; expected one of 01+-rl")
        for gate in gates[label]:
            circuit.append(gate, [qubit])
    if not labels:
        raise ValueError("product state needs at least one qubit")
    # make every qubit exist in the circuit (stim sizes simulators from the circuit)
    circuit.append("I", list(range(len(labels))))
    return circuit


def ghz_circuit(qubits: int) -> stim.Circuit:
    r"""Circuit preparing :math:`|\mathrm{GHZ}_n\rangle = (|0\rangle^{\otimes n} + |1\rangle^{\otimes n})/\sqrt2`.

    Stabilizers: :math:`X^{\otimes n}` and :math:`Z_iZ_{i+1}`.
    """
    if qubits < 1:
        raise ValueError(f"GHZ state needs qubits >= 1, got {qubits}")
    circuit = stim.Circuit()
    circuit.append("H", [0])
    for q in range(qubits - 1):
        circuit.append("CX", [q, q + 1])
    circuit.append("I", list(range(qubits)))
    return circuit


def graph_state_circuit(qubits: int, edges: Sequence[tuple[int, int]]) -> stim.Circuit:
    r"""Circuit preparing the graph state :math:`\prod_{(u,v)\in E} CZ_{uv}|+\rangle^{\otimes n}`.

    Stabilizers :math:`K_v = X_v\prod_{w\in N(v)} Z_w` (Hein et al., quant-ph/0602096).
    """
    circuit = stim.Circuit()
    circuit.append("H", list(range(qubits)))
    for u, v in edges:
        if not (0 <= u < qubits and 0 <= v < qubits) or u == v:
            raise ValueError(f"edge ({u}, {v}) is not a pair of distinct qubits in range({qubits})")
        circuit.append("CZ", [u, v])
    return circuit


def cluster_state_circuit(qubits: int) -> stim.Circuit:
    """Linear (1-D) cluster state: the graph state of the path ``0-1-...-(n-1)``."""
    return graph_state_circuit(qubits, [(q, q + 1) for q in range(qubits - 1)])


def _simulator(circuit: stim.Circuit) -> stim.TableauSimulator:
    sim = stim.TableauSimulator()
    sim.do_circuit(circuit)
    return sim


def stabilizer_generators(circuit: stim.Circuit) -> list[stim.PauliString]:
    """Canonical signed stabilizer generators of the state the circuit prepares from ``|0...0>``."""
    return _simulator(circuit).canonical_stabilizers()


def stabilizer_state_vector(circuit: stim.Circuit) -> np.ndarray:
    """Big-endian state vector of a (small) stabilizer circuit's output (global phase arbitrary)."""
    return _simulator(circuit).state_vector(endian="big")


# --------------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------------


def random_bases(rng: np.random.Generator, snapshots: int, qubits: int) -> np.ndarray:
    """Uniform random Pauli bases, ``uint8`` shape ``(snapshots, qubits)`` with values in ``{0,1,2}``."""
    return rng.integers(0, 3, size=(snapshots, qubits), dtype=np.uint8)


def sample_stabilizer_snapshots(
    circuit: stim.Circuit, snapshots: int, rng: np.random.Generator
) -> PauliSnapshots:
    r"""Random-Pauli snapshots of the stabilizer state prepared by ``circuit`` (noiseless).

    Each snapshot draws bases :math:`b\in\{X,Y,Z\}^n` uniformly, rotates with :math:`H` (X) or
    :math:`H_{YZ}` (Y; :math:`H_{YZ} Y H_{YZ} = Z`) and measures all qubits in Z with a stim tableau
    simulator [AG04]_ that is reset to the prepared tableau before every snapshot. Cost
    :math:`O(n^2)` per snapshot; ~3e4 snapshots/s at n = 50 on one core.

    Parameters
    ----------
    circuit : stim.Circuit
        Unitary Clifford circuit acting on ``|0...0>`` (no measurements or noise).
    snapshots : int
    rng : numpy.random.Generator
        Supplies the bases and the seed of stim's internal generator.

    Returns
    -------
    PauliSnapshots
    """
    qubits = circuit.num_qubits
    inverse = _simulator(circuit).current_inverse_tableau()
    bases = random_bases(rng, snapshots, qubits)
    sim = stim.TableauSimulator(seed=int(rng.integers(0, 2**63)))
    out = np.empty((snapshots, qubits), dtype=bool)
    sites = np.arange(qubits)
    all_sites = sites.tolist()
    for s in range(snapshots):
        row = bases[s]
        sim.set_inverse_tableau(inverse)
        sim.h(*sites[row == X].tolist())
        sim.h_yz(*sites[row == Y].tolist())
        out[s] = sim.measure_many(*all_sites)
    return PauliSnapshots(bases, out.astype(np.uint8), np.zeros((snapshots, qubits), dtype=bool))


# Single-qubit rotations U_b with U_b sigma_b U_b^dag = Z: H for X, H S^dag for Y, I for Z.
_HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
_BASIS_ROTATIONS = np.stack([_HADAMARD, _HADAMARD @ np.diag([1, -1j]), np.eye(2, dtype=complex)])


def _mixture_components(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pure components and weights of a state vector or density matrix (eigendecomposition)."""
    state = np.asarray(state, dtype=complex)
    if state.ndim == 1:
        return state[None, :] / np.linalg.norm(state), np.ones(1)
    weights, vectors = np.linalg.eigh(state)
    keep = weights > 1e-14
    weights = weights[keep] / weights[keep].sum()
    return vectors[:, keep].T, weights


def _qubits_of_dimension(dim: int) -> int:
    qubits = int(round(math.log2(dim)))
    if 2**qubits != dim or qubits > MAX_DENSE_QUBITS:
        raise ValueError(f"dense state of dimension {dim}: expected 2**n with n <= {MAX_DENSE_QUBITS}")
    return qubits


def sample_dense_snapshots(
    state: np.ndarray, snapshots: int, rng: np.random.Generator, chunk: int = 2048
) -> PauliSnapshots:
    r"""Random-Pauli snapshots of a dense state (vector or density matrix, up to ~12 qubits).

    A density matrix :math:`\rho = \sum_k \lambda_k |\psi_k\rangle\langle\psi_k|` is sampled as the
    mixture: component :math:`k\sim\lambda`, then the outcome of :math:`\psi_k`; this is exact since
    :math:`\langle s|U\rho U^\dagger|s\rangle = \sum_k\lambda_k|\langle s|U|\psi_k\rangle|^2`.
    Outcomes are drawn qubit by qubit (chain rule of :math:`|\langle s|U|\psi\rangle|^2`): rotate
    qubit :math:`q` of the conditional state, draw its bit from the norms of the two halves, keep
    the chosen half; cost :math:`\approx 4\cdot 2^n` per snapshot, vectorised over chunks of
    snapshots with batched 2x2 matmuls.

    Parameters
    ----------
    state : ndarray, shape (2**n,) or (2**n, 2**n)
    snapshots : int
    rng : numpy.random.Generator
    chunk : int
        Snapshots per vectorised chunk (memory ``chunk * 2**n * 16`` bytes).

    Returns
    -------
    PauliSnapshots
    """
    components, weights = _mixture_components(state)
    dim = components.shape[1]
    qubits = _qubits_of_dimension(dim)
    bases = random_bases(rng, snapshots, qubits)
    which = rng.choice(len(weights), size=snapshots, p=weights)
    uniforms = rng.random((snapshots, qubits))
    bits = np.empty((snapshots, qubits), dtype=np.uint8)
    for start in range(0, snapshots, chunk):
        stop = min(start + chunk, snapshots)
        rows = np.arange(stop - start)
        amps = components[which[start:stop]]
        for q in range(qubits):
            # chain rule: rotate qubit q of the (unnormalised) conditional state, draw its outcome
            # from the two half-norms, keep the chosen half (the state of qubits q+1..n-1)
            amps = np.matmul(_BASIS_ROTATIONS[bases[start:stop, q]], amps.reshape(stop - start, 2, -1))
            half = np.einsum("cbr,cbr->cb", amps, amps.conj()).real
            outcome = (uniforms[start:stop, q] * half.sum(1) >= half[:, 0]).astype(np.intp)
            bits[start:stop, q] = outcome
            amps = amps[rows, outcome]
    return PauliSnapshots(bases, bits, np.zeros((snapshots, qubits), dtype=bool))


def pauli_outcome_probabilities(rho: np.ndarray) -> np.ndarray:
    r"""Exact joint law of one random-Pauli snapshot of a dense state, shape ``(6,) * n``.

    Entry ``[2 b_0 + s_0, ..., 2 b_{n-1} + s_{n-1}]`` is
    :math:`3^{-n}\langle s|U_b\rho U_b^\dagger|s\rangle` (bases ``b_i`` uniform, ``0 = X, 1 = Y, 2 = Z``,
    bit ``s_i``; the rotations of :func:`sample_dense_snapshots`), formed qubit by qubit: rotate the
    row and column index of qubit q with each :math:`U_b` and keep the diagonal. Cost
    :math:`O(6^n 4^n)` at most; meant for a few qubits.
    """
    rho = np.asarray(rho, dtype=complex)
    if rho.ndim == 1:
        rho = np.outer(rho, rho.conj())
    qubits = _qubits_of_dimension(rho.shape[0])
    table = rho[None]  # (settled outcomes, rows, cols) of the qubits not yet rotated
    for q in range(qubits):
        r = rho.shape[0] >> (q + 1)
        t = table.reshape(table.shape[0], 2, r, 2, r)
        t = np.einsum("bsx,axiyj,bsy->absij", _BASIS_ROTATIONS, t, _BASIS_ROTATIONS.conj())
        table = t.reshape(-1, r, r)
    p = np.clip(table.reshape((6,) * qubits).real, 0.0, None)
    return p / p.sum()


def apply_pauli_noise(
    snapshots: PauliSnapshots, rng: np.random.Generator, depolarizing: float = 0.0, dephasing: float = 0.0
) -> PauliSnapshots:
    r"""Single-qubit Pauli noise on every qubit just before the measurement, applied to the outcomes.

    Depolarising :math:`\rho\mapsto(1-p)\rho + \tfrac p3(X\rho X + Y\rho Y + Z\rho Z)` flips any
    basis' outcome with probability :math:`2p/3`; dephasing :math:`\rho\mapsto(1-q)\rho + qZ\rho Z`
    flips X and Y outcomes with probability :math:`q`. A Pauli error before a measurement of
    :math:`\sigma_b` flips its outcome iff it anticommutes with :math:`\sigma_b`, so this is exact.
    The noisy state has :math:`\operatorname{tr}(P\rho') = (1-\tfrac{4p}3)^{k}(1-2q)^{k_{XY}}\operatorname{tr}(P\rho)`
    (:math:`k_{XY}` = number of X/Y letters in P); the estimators estimate :math:`\rho'`.
    """
    if not (0 <= depolarizing <= 1 and 0 <= dephasing <= 1):
        raise ValueError(f"noise probabilities must be in [0, 1], got {depolarizing}, {dephasing}")
    flip_p = 2 * depolarizing / 3
    flip_q = np.where(snapshots.bases == Z, 0.0, dephasing)
    u = rng.random(snapshots.bits.shape)
    v = rng.random(snapshots.bits.shape)
    flips = (u < flip_p) ^ (v < flip_q)
    return PauliSnapshots(snapshots.bases, snapshots.bits ^ flips.astype(np.uint8), snapshots.erased)


def pauli_noise_attenuation(paulis: Sequence[str], depolarizing: float = 0.0, dephasing: float = 0.0) -> np.ndarray:
    r"""Factor :math:`f_P = (1-\tfrac{4p}{3})^{k}(1-2q)^{k_{XY}}` by which :func:`apply_pauli_noise`
    scales :math:`\operatorname{tr}(P\rho)`; dividing a noisy estimate (and its standard error) by
    :math:`f_P` inverts the known noise (unbiased, variance inflated by :math:`f_P^{-2}`)."""
    codes = parse_paulis(paulis)
    weight = (codes != IDENTITY).sum(axis=1)
    transverse = ((codes == X) | (codes == Y)).sum(axis=1)
    return (1 - 4 * depolarizing / 3) ** weight * (1 - 2 * dephasing) ** transverse


def apply_erasure(snapshots: PauliSnapshots, rng: np.random.Generator, loss: float) -> PauliSnapshots:
    r"""Independent erasure of each qubit with probability ``loss`` (e.g. dual-rail photon loss).

    The erased site's bit is replaced by a fair coin (it carries no information) and flagged. Because
    loss is independent of basis and state, the surviving sites of a snapshot are a Pauli snapshot of
    the *marginal* of :math:`\rho` on those sites (partial trace over the lost qubits).
    """
    if not 0 <= loss < 1:
        raise ValueError(f"loss probability must be in [0, 1), got {loss}")
    erased = snapshots.erased | (rng.random(snapshots.bits.shape) < loss)
    coins = rng.integers(0, 2, size=snapshots.bits.shape, dtype=np.uint8)
    bits = np.where(erased, coins, snapshots.bits).astype(np.uint8)
    return PauliSnapshots(snapshots.bases, bits, erased)


# --------------------------------------------------------------------------------------------------
# Observables
# --------------------------------------------------------------------------------------------------


def parse_paulis(paulis: Sequence[str]) -> np.ndarray:
    """Pauli strings to codes, ``uint8`` shape ``(M, n)`` with ``0 = X, 1 = Y, 2 = Z, 3 = I``."""
    if len(paulis) == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    n = len(paulis[0])
    out = np.empty((len(paulis), n), dtype=np.uint8)
    for m, string in enumerate(paulis):
        if len(string) != n:
            raise ValueError(f"Pauli string {string!r} has length {len(string)}; expected {n}")
        try:
            out[m] = [_LETTER_CODE[c] for c in string.upper()]
        except KeyError as err:
            raise ValueError(f"Pauli string {string!r} has a letter outside IXYZ") from err
    return out


def pauli_weight(pauli: str) -> int:
    """Number of non-identity letters."""
    return sum(c != "I" for c in pauli.upper())


def _as_pauli_sum(observable: Observable) -> dict[str, float]:
    if isinstance(observable, str):
        return {observable.upper(): 1.0}
    return {str(k).upper(): float(v) for k, v in dict(observable).items()}


def shadow_norm_squared(observable: Observable) -> float:
    r"""Upper bound on the random-Pauli shadow norm :math:`\|O - \tfrac{\operatorname{tr}O}{2^n}I\|^2_{\rm shadow}`.

    Exact for one Pauli string of weight :math:`k` (:math:`3^k`, [HKP20]_ Lemma 3); for a sum
    :math:`O=\sum_P c_P P` the triangle inequality of the norm gives
    :math:`(\sum_{P\neq I}|c_P|\,3^{|P|/2})^2`.
    """
    terms = _as_pauli_sum(observable)
    return float(sum(abs(c) * 3 ** (pauli_weight(p) / 2) for p, c in terms.items() if pauli_weight(p)) ** 2)


def median_of_means_batches(observables: int, delta: float) -> int:
    r"""Number of batches :math:`K = \lceil 2\ln(2M/\delta)\rceil` ([HKP20]_ Theorem 1)."""
    if observables < 1 or not 0 < delta < 1:
        raise ValueError(f"need observables >= 1 and 0 < delta < 1, got {observables}, {delta}")
    return int(math.ceil(2 * math.log(2 * observables / delta)))


def snapshots_needed(
    observables: int, weight: int, epsilon: float, delta: float, loss: float = 0.0
) -> SnapshotBudget:
    r"""Snapshots for :math:`|\hat o_i - \operatorname{tr}(O_i\rho)|\le\epsilon` for all ``observables``
    Pauli strings of weight ``weight``, with probability :math:`\ge 1-\delta` ([HKP20]_ Theorem 1).

    .. math:: K = \lceil 2\ln(2M/\delta)\rceil,\qquad N = \lceil 34\cdot 3^k/\epsilon^2\rceil,\qquad
              \text{total} = K N.

    With independent erasure probability ``loss`` each term keeps a fraction :math:`(1-\text{loss})^k`
    of the snapshots, so :math:`N` is divided by that fraction (expected usable count; not a
    high-probability statement about the count itself).
    """
    if epsilon <= 0 or not 0 <= loss < 1:
        raise ValueError(f"need epsilon > 0 and 0 <= loss < 1, got {epsilon}, {loss}")
    batches = median_of_means_batches(observables, delta)
    per_batch = int(math.ceil(34 * 3**weight / epsilon**2 / (1 - loss) ** weight - 1e-9))
    return SnapshotBudget(batches, per_batch, batches * per_batch)


def shadow_budget(
    observables: Sequence[Observable], epsilon: float, delta: float, loss: float = 0.0
) -> SnapshotBudget:
    r"""[HKP20]_ Theorem 1 budget for arbitrary Pauli sums:
    :math:`N = \lceil 34\max_i\|O_i\|^2_{\rm shadow}/\epsilon^2\rceil` per batch (bound of
    :func:`shadow_norm_squared`), :math:`K = \lceil 2\ln(2M/\delta)\rceil` batches; ``loss`` as in
    :func:`snapshots_needed` with the largest weight among the terms."""
    if epsilon <= 0 or not 0 <= loss < 1:
        raise ValueError(f"need epsilon > 0 and 0 <= loss < 1, got {epsilon}, {loss}")
    batches = median_of_means_batches(len(observables), delta)
    norm = max(shadow_norm_squared(o) for o in observables)
    weight = max(pauli_weight(p) for o in observables for p in _as_pauli_sum(o))
    per_batch = int(math.ceil(34 * norm / epsilon**2 / (1 - loss) ** weight - 1e-9))
    return SnapshotBudget(batches, per_batch, batches * per_batch)


# --------------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------------


class _Packed(NamedTuple):
    match: np.ndarray  # (3n, B, W) uint64: site i measured in basis beta and not erased
    minus: np.ndarray  # (3n, B, W): ... and outcome -1
    kept: np.ndarray  # (n, B, W): site not erased
    block_size: int
    any_erased: bool


def _pack_bits(flags: np.ndarray, blocks: int, block_size: int) -> np.ndarray:
    """flags (rows, blocks*block_size) bool -> (rows, blocks, words) uint64."""
    rows = flags.shape[0]
    words = -(-block_size // 64)
    padded = np.zeros((rows, blocks, words * 64), dtype=bool)
    padded[:, :, :block_size] = flags.reshape(rows, blocks, block_size)
    packed = np.packbits(padded, axis=2, bitorder="little")
    return packed.view(np.uint64)


def _pack(snapshots: PauliSnapshots, blocks: int) -> _Packed:
    total, qubits = snapshots.bases.shape
    block_size = total // blocks
    if block_size < 1:
        raise ValueError(f"{total} snapshots cannot fill {blocks} blocks")
    used = blocks * block_size
    bases = snapshots.bases[:used].T
    bits = snapshots.bits[:used].T.astype(bool)
    kept = ~snapshots.erased[:used].T
    match = np.empty((3 * qubits, used), dtype=bool)
    for beta in range(3):
        match[beta::3] = (bases == beta) & kept
    minus = match & np.repeat(bits, 3, axis=0)
    return _Packed(
        _pack_bits(match, blocks, block_size),
        _pack_bits(minus, blocks, block_size),
        _pack_bits(kept, blocks, block_size),
        block_size,
        bool(snapshots.erased[:used].any()),
    )


def _pauli_block_sums(packed: _Packed, codes: np.ndarray, chunk_bytes: int = 64 << 20):
    """Block sums of single-shot estimates and usable counts for Pauli codes (M, n).

    Returns sums (M, B) float and counts (M, B) int.
    """
    m_total = codes.shape[0]
    blocks = packed.match.shape[1]
    sums = np.zeros((m_total, blocks))
    counts = np.full((m_total, blocks), packed.block_size, dtype=np.int64)
    support = codes != IDENTITY
    weights = support.sum(axis=1)
    sums[weights == 0] = packed.block_size
    words = packed.match.shape[2]
    for k in np.unique(weights[weights > 0]):
        rows_of = np.flatnonzero(weights == k)
        site_idx = np.nonzero(support[rows_of])[1].reshape(len(rows_of), k)
        letter = np.take_along_axis(codes[rows_of], site_idx, axis=1).astype(np.int64)
        flat = site_idx * 3 + letter  # (Mk, k)
        step = max(1, chunk_bytes // (8 * k * blocks * words))
        for a in range(0, len(rows_of), step):
            sel = slice(a, a + step)
            match = np.bitwise_and.reduce(packed.match[flat[sel]], axis=1)  # (c, B, W)
            parity = np.bitwise_xor.reduce(packed.minus[flat[sel]], axis=1) & match
            n_match = np.bitwise_count(match).sum(axis=2, dtype=np.int64)
            n_neg = np.bitwise_count(parity).sum(axis=2, dtype=np.int64)
            sums[rows_of[sel]] = 3.0**k * (n_match - 2 * n_neg)
            if packed.any_erased:
                kept = np.bitwise_and.reduce(packed.kept[site_idx[sel]], axis=1)
                counts[rows_of[sel]] = np.bitwise_count(kept).sum(axis=2, dtype=np.int64)
    return sums, counts


def estimate_observables(
    snapshots: PauliSnapshots, observables: Sequence[Observable], batches: int = 1
) -> ShadowEstimate:
    r"""Predict :math:`\operatorname{tr}(O_j\rho)` for Pauli strings or weighted Pauli sums.

    Each Pauli term uses the single-shot estimate of the module docstring; a sum
    :math:`O = \sum_P c_P P` is combined linearly. Erased sites: a term is estimated from the
    snapshots in which *all* its support survived (ratio estimator
    :math:`\sum_{s\in S_P}\hat o_s/|S_P|`). Since erasure is independent of basis and state, these
    snapshots are random-Pauli snapshots of the marginal :math:`\rho_{\operatorname{supp}P}`, so the
    ratio is unbiased given :math:`|S_P|>0`; it uses the effective sample size
    :math:`N(1-p_{\rm loss})^{k}`.

    Median of means ([HKP20]_ Eq. (S13)): snapshots are split into ``batches`` equal contiguous
    batches, and ``estimate`` is the median of the batch means.

    Vectorisation: outcomes are bit-packed per (site, basis) into 64-snapshot words; a weight-k
    term costs k AND/XOR word operations and two popcounts per word.

    Parameters
    ----------
    snapshots : PauliSnapshots
    observables : sequence of str or dict
        ``"XZI"`` or ``{"ZZI": -1.0, "IZZ": -1.0, "XII": -0.5}``.
    batches : int
        Median-of-means batches ``K`` (see :func:`median_of_means_batches`).

    Returns
    -------
    ShadowEstimate
    """
    total, qubits = snapshots.bases.shape
    sums_list = [_as_pauli_sum(o) for o in observables]
    strings = sorted({p for s in sums_list for p in s})
    codes = parse_paulis(strings)
    if codes.size and codes.shape[1] != qubits:
        raise ValueError(f"Pauli strings act on {codes.shape[1]} qubits; snapshots have {qubits}")
    blocks = batches * int(math.ceil(32 / batches))
    packed = _pack(snapshots, blocks)
    sums, counts = _pauli_block_sums(packed, codes)
    index = {p: i for i, p in enumerate(strings)}
    rows = [j for j, terms in enumerate(sums_list) for _ in terms]
    cols = [index[p] for terms in sums_list for p in terms]
    vals = [c for terms in sums_list for c in terms.values()]
    coeffs = sparse.csr_matrix((vals, (rows, cols)), shape=(len(observables), len(strings)))
    with np.errstate(invalid="ignore", divide="ignore"):
        block_means = coeffs @ (sums / counts)
        mean = coeffs @ (sums.sum(1) / counts.sum(1))
        per_batch = blocks // batches
        b_sums = sums.reshape(len(strings), batches, per_batch).sum(2)
        b_counts = counts.reshape(len(strings), batches, per_batch).sum(2)
        batch_means = coeffs @ (b_sums / b_counts)
    estimate = np.median(batch_means, axis=1)
    standard_error = block_means.std(axis=1, ddof=1) / np.sqrt(blocks)
    used_per_string = counts.sum(1)
    used = np.array([min(used_per_string[index[p]] for p in terms) for terms in sums_list], dtype=np.int64)
    return ShadowEstimate(estimate, mean, standard_error, used, batches)


def single_shot_estimates(snapshots: PauliSnapshots, paulis: Sequence[str]) -> np.ndarray:
    r"""Per-snapshot estimates :math:`3^k\prod(-1)^{\text{bit}}` or 0, float shape ``(M, N)``.

    Erased support gives ``nan``. Dense output; for checks on small sets (use
    :func:`estimate_observables` for many observables).
    """
    codes = parse_paulis(paulis)
    signs = (1 - 2 * snapshots.bits.astype(np.int8)).T  # (n, N)
    out = np.ones((codes.shape[0], snapshots.bases.shape[0]))
    for m, row in enumerate(codes):
        for i in np.flatnonzero(row != IDENTITY):
            out[m] *= 3.0 * (snapshots.bases[:, i] == row[i]) * signs[i]
            out[m, snapshots.erased[:, i]] = np.nan
    return out


def stabilizer_group(generators: Sequence[stim.PauliString]) -> dict[str, float]:
    """All ``2**n`` signed elements of the group generated by ``generators`` as a Pauli sum."""
    n = len(generators[0])
    elements = [stim.PauliString(n)]
    for g in generators:
        elements += [e * g for e in elements]
    out: dict[str, float] = {}
    for e in elements:
        key = str(e)[1:].replace("_", "I")
        out[key] = out.get(key, 0.0) + float(np.real(e.sign))
    return out


def stabilizer_fidelity(
    snapshots: PauliSnapshots,
    circuit: stim.Circuit,
    rng: np.random.Generator | None = None,
    group_samples: int | None = None,
) -> FidelityEstimate:
    r"""Fidelity :math:`F=\langle\psi|\rho|\psi\rangle` with the stabilizer state :math:`|\psi\rangle` of ``circuit``.

    Uses :math:`|\psi\rangle\langle\psi| = 2^{-n}\sum_{g\in S} g` over the stabilizer group
    :math:`S = \langle g_1..g_n\rangle`, so :math:`F = 2^{-n}\sum_{g\in S}\operatorname{tr}(g\rho)`.

    * Exact (``group_samples=None``, n <= 14): all :math:`2^n` elements, estimated as one Pauli sum.
    * Sampled: draw ``group_samples`` elements :math:`g_c=\prod_i g_i^{c_i}`, :math:`c` uniform on
      :math:`\{0,1\}^n`, and average their shadow estimates; unbiased since
      :math:`E_c\operatorname{tr}(g_c\rho) = F`. The standard error adds the spread over sampled
      elements to the shadow error.

    Caveat: a weight-:math:`w` element has shadow variance :math:`3^w`; typical elements of an
    n-qubit entangled state have :math:`w\sim 3n/4`, so random-Pauli shadows estimate fidelities
    only for small n or low-weight stabilizer groups (direct fidelity estimation needs measurements
    in the stabilizers' own bases).
    """
    generators = stabilizer_generators(circuit)
    n = len(generators)
    if group_samples is None:
        if n > MAX_DENSE_QUBITS:
            raise ValueError(f"exact fidelity enumerates 2**n elements; n = {n} > {MAX_DENSE_QUBITS}: pass group_samples")
        group = stabilizer_group(generators)
        observable = {p: c / 2**n for p, c in group.items()}
        est = estimate_observables(snapshots, [observable])
        return FidelityEstimate(float(est.mean[0]), float(est.standard_error[0]), 2**n)
    if rng is None:
        raise ValueError("sampled stabilizer fidelity needs rng")
    choice = rng.integers(0, 2, size=(group_samples, n)).astype(bool)
    elements = []
    for row in choice:
        e = stim.PauliString(n)
        for g, used in zip(generators, row):
            if used:
                e = e * g
        elements.append({str(e)[1:].replace("_", "I"): float(np.real(e.sign))})
    est = estimate_observables(snapshots, elements)
    spread = est.mean.std(ddof=1) / np.sqrt(group_samples) if group_samples > 1 else np.inf
    shadow = np.sqrt(np.mean(est.standard_error**2) / group_samples)
    return FidelityEstimate(float(est.mean.mean()), float(np.hypot(spread, shadow)), group_samples)


# Per-site kernel tr[(3|a><a|-I)(3|b><b|-I)] for site states (basis, bit) indexed 2*basis+bit.
_SITE_KERNEL = np.array(
    [[5.0 if (a // 2 == b // 2 and a % 2 == b % 2) else (-4.0 if a // 2 == b // 2 else 0.5) for b in range(6)]
     for a in range(6)]
)


def renyi2_entropy(snapshots: PauliSnapshots, subsystem: Sequence[int]) -> Renyi2Estimate:
    r"""Second Renyi entropy :math:`S_2(\rho_A) = -\log_2\operatorname{tr}\rho_A^2` of a small subsystem.

    Unbiased U-statistic over distinct pairs ([HKP20]_ Eq. (S45); [EKH20]_):

    .. math:: \widehat{\operatorname{tr}\rho_A^2} = \frac{1}{N(N-1)}\sum_{s\neq t}
              \prod_{i\in A}\operatorname{tr}(\hat\rho^{(s)}_i\hat\rho^{(t)}_i),

    with the per-site kernel 5 (same basis, same outcome), -4 (same basis, different outcome),
    1/2 (different bases). Computed exactly from the histogram :math:`h` of the :math:`6^{|A|}` local
    patterns: :math:`\sum_{s\neq t} = h^T K^{\otimes|A|} h - 5^{|A|}N`. Snapshots with an erased site
    in A are dropped. :math:`S_2` is biased at :math:`O(1/N)` through the logarithm.
    """
    sites = list(subsystem)
    if not sites or len(sites) > 8:
        raise ValueError(f"subsystem must have 1..8 sites, got {sites}")
    keep = ~snapshots.erased[:, sites].any(axis=1)
    local = 2 * snapshots.bases[keep][:, sites].astype(np.int64) + snapshots.bits[keep][:, sites]
    n_used = int(local.shape[0])
    if n_used < 2:
        raise ValueError("Renyi-2 estimation needs at least two usable snapshots")
    a = len(sites)
    pattern = local @ (6 ** np.arange(a - 1, -1, -1))
    hist = np.bincount(pattern, minlength=6**a).astype(float)
    kernel_h = hist.reshape((6,) * a)
    for axis in range(a):
        kernel_h = np.moveaxis(np.tensordot(_SITE_KERNEL, kernel_h, axes=([1], [axis])), 0, axis)
    kernel_h = kernel_h.reshape(-1)  # (K h)_pattern
    diag = 5.0**a
    purity = (hist @ kernel_h - diag * n_used) / (n_used * (n_used - 1))
    h1 = (kernel_h[pattern] - diag) / (n_used - 1)  # Hoeffding projection per snapshot
    se = 2 * h1.std(ddof=1) / np.sqrt(n_used)
    entropy = -math.log2(purity) if purity > 0 else math.inf
    return Renyi2Estimate(float(purity), float(se), entropy, float(se / (abs(purity) * math.log(2))), n_used)


# --------------------------------------------------------------------------------------------------
# Random Clifford shadows (small n)
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def stabilizer_states(qubits: int) -> np.ndarray:
    r"""All n-qubit stabilizer states (global phases arbitrary), big-endian, shape ``(count, 2**n)``.

    Breadth-first search from :math:`|0\rangle^{\otimes n}` over the gates H, S, CX, deduplicated by the
    canonical stabilizer generators; deterministic order. Counts 6, 60, 1080, 36720 for n = 1..4
    (:math:`2^n\prod_{k=1}^n(2^k+1)`, Aaronson & Gottesman 2004).
    """
    if not 1 <= qubits <= 4:
        raise ValueError(f"stabilizer-state enumeration supports 1..4 qubits, got {qubits}")

    def key(sim):
        return tuple(str(p) for p in sim.canonical_stabilizers())

    start = stim.TableauSimulator()
    start.do_circuit(stim.Circuit(f"I {' '.join(map(str, range(qubits)))}"))
    seen = {key(start): start}
    frontier = [start]
    moves = [("H", (q,)) for q in range(qubits)] + [("S", (q,)) for q in range(qubits)]
    moves += [("CX", (a, b)) for a in range(qubits) for b in range(qubits) if a != b]
    while frontier:
        nxt = []
        for sim in frontier:
            for gate, targets in moves:
                child = sim.copy()
                child.do_circuit(stim.Circuit(f"{gate} {' '.join(map(str, targets))}"))
                k = key(child)
                if k not in seen:
                    seen[k] = child
                    nxt.append(child)
        frontier = nxt
    return np.array([sim.state_vector(endian="big") for sim in seen.values()])


def sample_clifford_snapshots(state: np.ndarray, snapshots: int, rng: np.random.Generator) -> CliffordSnapshots:
    r"""Global random-Clifford snapshots of a small dense state (n <= 4).

    For :math:`U` uniform on the Clifford group and :math:`b\sim\langle b|U\rho U^\dagger|b\rangle`,
    the snapshot depends only on the stabilizer state :math:`|v\rangle = U^\dagger|b\rangle`, and
    :math:`U^\dagger|b\rangle` is uniform over stabilizer states for each b, so
    :math:`\Pr(v) = \frac{2^n}{|\mathrm{Stab}_n|}\langle v|\rho|v\rangle`. We sample that law
    exactly over the enumerated stabilizer states (:func:`stabilizer_states`) with ``rng`` -- a
    seeded equivalent of drawing ``stim.Tableau.random`` (which is not seedable) and measuring.
    """
    state = np.asarray(state, dtype=complex)
    qubits = _qubits_of_dimension(state.shape[0])
    stabs = stabilizer_states(qubits)
    if state.ndim == 1:
        probs = np.abs(stabs.conj() @ (state / np.linalg.norm(state))) ** 2
    else:
        probs = np.real(np.einsum("vi,ij,vj->v", stabs.conj(), state, stabs))
    probs = np.clip(probs, 0, None)
    which = rng.choice(len(stabs), size=snapshots, p=probs / probs.sum())
    return CliffordSnapshots(stabs[which])


def clifford_expectation(snapshots: CliffordSnapshots, observable: np.ndarray) -> ShadowEstimate:
    r"""Estimate :math:`\operatorname{tr}(O\rho)` from Clifford snapshots:
    :math:`\hat o = (2^n+1)\langle v|O|v\rangle - \operatorname{tr}O` per snapshot; returns mean and
    standard error (``batches = 1``). Variance :math:`\le 3\operatorname{tr}(O_0^2)` for traceless
    :math:`O_0` ([HKP20]_ Eq. (S31))."""
    v = snapshots.vectors
    dim = v.shape[1]
    shots = (dim + 1) * np.real(np.einsum("si,ij,sj->s", v.conj(), observable, v)) - np.real(np.trace(observable))
    n = len(shots)
    mean = np.array([shots.mean()])
    se = np.array([shots.std(ddof=1) / np.sqrt(n)])
    return ShadowEstimate(mean, mean, se, np.array([n]), 1)
