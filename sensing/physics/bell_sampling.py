r"""Two-copy Bell sampling: all :math:`\operatorname{tr}(P\rho)^2` and the purity from one sample set.

Qubit :math:`i` of copy 1 and qubit :math:`i` of copy 2 are measured in the Bell basis, for every
:math:`i` (Huang et al., Science 376, 1182 (2022); PHYSICS.md 5.2). Outcome codes per site:
``0 = Phi+, 1 = Phi-, 2 = Psi+, 3 = Psi-``, with eigenvalues of :math:`P\otimes P`

=====  ====  ====  ====
state   XX    YY    ZZ
=====  ====  ====  ====
Phi+    +1    -1    +1
Phi-    -1    +1    +1
Psi+    +1    +1    -1
Psi-    -1    -1    -1
=====  ====  ====  ====

Since :math:`\operatorname{tr}[(P\otimes P)(\rho\otimes\rho)] = \operatorname{tr}(P\rho)^2` and the
Bell states diagonalise every :math:`P_i\otimes P_i`, the product of the table entries over sites is
an unbiased :math:`\pm1` estimate of :math:`\operatorname{tr}(P\rho)^2` for every Pauli string at once.
The swap operator is :math:`\prod_i(1 - 2[\text{site } i = \Psi^-])`, so the product of
:math:`s_i = -1` (Psi-) / +1 gives :math:`\operatorname{tr}\rho^2`.

References
----------
.. [HBC22] H.-Y. Huang et al., "Quantum advantage in learning from experiments", Science 376, 1182
   (2022), arXiv:2112.00778.
.. [CGY24] S. Chen, W. Gong, Q. Ye, "Optimal tradeoffs for estimating Pauli observables",
   arXiv:2404.19105.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from sensing.physics.shadows import IDENTITY, parse_paulis

#: Eigenvalue of P (x) P (rows I, X, Y, Z) in Bell state (columns Phi+, Phi-, Psi+, Psi-).
BELL_EIGENVALUES = np.array(
    [[1, 1, 1, 1], [1, -1, 1, -1], [-1, 1, 1, -1], [1, 1, -1, -1]], dtype=np.int8
)
_ROW_OF_CODE = {0: 1, 1: 2, 2: 3, IDENTITY: 0}  # shadows codes X=0, Y=1, Z=2, I=3 -> table rows
#: Bell states as rows in the two-qubit basis |00>,|01>,|10>,|11> (first index = copy 1).
BELL_STATES = np.array([[1, 0, 0, 1], [1, 0, 0, -1], [0, 1, 1, 0], [0, 1, -1, 0]], dtype=complex) / np.sqrt(2)
MAX_BELL_QUBITS = 7


class BellEstimate(NamedTuple):
    """Estimates with standard errors from Bell samples (one entry per Pauli string)."""

    squared_expectation: np.ndarray
    standard_error: np.ndarray
    samples: int


class PurityEstimate(NamedTuple):
    """Purity :math:`\\operatorname{tr}\\rho^2` from the swap parity, with its standard error."""

    purity: float
    standard_error: float
    samples: int


def bell_outcome_probabilities(state: np.ndarray) -> np.ndarray:
    r"""Exact law of the site-wise Bell outcomes on :math:`\rho\otimes\rho`, shape ``(4,)*n``.

    :math:`p(k_1..k_n) = \operatorname{tr}[\bigotimes_i |B_{k_i}\rangle\langle B_{k_i}|_{i,i'}\,
    (\rho\otimes\rho)]`, computed through the eigendecomposition
    :math:`\rho\otimes\rho = \sum_{ab}\lambda_a\lambda_b|\psi_a\psi_b\rangle\langle\psi_a\psi_b|`.

    Parameters
    ----------
    state : ndarray
        Big-endian state vector ``(2**n,)`` or density matrix ``(2**n, 2**n)``, n <= 7.
    """
    state = np.asarray(state, dtype=complex)
    qubits = int(round(math.log2(state.shape[0])))
    if 2**qubits != state.shape[0] or qubits > MAX_BELL_QUBITS:
        raise ValueError(f"Bell sampling needs a 2**n state with n <= {MAX_BELL_QUBITS}, got {state.shape}")
    if state.ndim == 1:
        vectors, weights = state[None] / np.linalg.norm(state), np.ones(1)
    else:
        w, v = np.linalg.eigh(state)
        keep = w > 1e-14
        vectors, weights = v[:, keep].T, w[keep] / w[keep].sum()
    probs = np.zeros((4,) * qubits)
    bell_conj = BELL_STATES.conj().reshape(4, 2, 2)
    for a, wa in enumerate(weights):
        for b, wb in enumerate(weights):
            amp = np.multiply.outer(vectors[a].reshape((2,) * qubits), vectors[b].reshape((2,) * qubits))
            # amp axes: copy-1 qubits 0..n-1 then copy-2 qubits 0..n-1; contract pair (i, n+i) with Bell
            for i in range(qubits):
                # current layout: [Bell results for sites < i] + copy-1 (i..n-1) + copy-2 (i..n-1)
                remaining = qubits - i
                amp = np.tensordot(bell_conj, amp, axes=([1, 2], [i, i + remaining]))
                amp = np.moveaxis(amp, 0, i)
            probs += wa * wb * np.abs(amp) ** 2
    return probs


def sample_bell_outcomes(state: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``samples`` site-wise Bell outcomes on two copies, ``uint8`` shape ``(samples, n)``."""
    probs = bell_outcome_probabilities(state)
    qubits = probs.ndim
    flat = probs.reshape(-1)
    index = rng.choice(flat.size, size=samples, p=flat / flat.sum())
    return np.stack(np.unravel_index(index, probs.shape), axis=1).astype(np.uint8).reshape(samples, qubits)


def bell_sign_table(outcomes: np.ndarray, paulis: Sequence[str]) -> np.ndarray:
    r"""Per-sample estimates :math:`\prod_i \lambda_{P_i}(k_i)\in\{\pm1\}`, int8 shape ``(M, samples)``."""
    codes = parse_paulis(paulis)
    rows = np.vectorize(_ROW_OF_CODE.get)(codes)
    table = BELL_EIGENVALUES[rows[:, :, None], outcomes.T[None, :, :]]  # (M, n, S)
    return np.prod(table, axis=1, dtype=np.int8)


def estimate_squared_paulis(outcomes: np.ndarray, paulis: Sequence[str]) -> BellEstimate:
    r"""Unbiased :math:`\widehat{\operatorname{tr}(P\rho)^2}` for every Pauli string from one sample set.

    Standard error :math:`\sqrt{(1 - \bar e^2)/(N-1)}` (the estimate is :math:`\pm1` per sample).
    """
    signs = bell_sign_table(outcomes, paulis).astype(float)
    n = signs.shape[1]
    mean = signs.mean(axis=1)
    se = np.sqrt(np.clip(1 - mean**2, 0, None) * n / (n - 1) / n)
    return BellEstimate(mean, se, n)


def estimate_purity(outcomes: np.ndarray) -> PurityEstimate:
    r""":math:`\operatorname{tr}\rho^2 = E\prod_i s_i`, :math:`s_i = -1` for Psi- else +1 (swap test)."""
    signs = np.where((outcomes == 3).sum(axis=1) % 2 == 1, -1.0, 1.0)
    n = len(signs)
    return PurityEstimate(float(signs.mean()), float(signs.std(ddof=1) / np.sqrt(n)), n)


def bell_samples_needed(observables: int, epsilon: float, delta: float) -> int:
    r"""Hoeffding + union bound: :math:`N = \lceil 2\ln(2M/\delta)/\epsilon^4\rceil` copy pairs give
    :math:`|\operatorname{tr}(P\rho)|` to :math:`\pm\epsilon` (:math:`\operatorname{tr}(P\rho)^2` to
    :math:`\pm\epsilon^2`) for all ``observables`` Paulis with probability :math:`\ge 1-\delta`."""
    if observables < 1 or epsilon <= 0 or not 0 < delta < 1:
        raise ValueError(f"need observables >= 1, epsilon > 0, 0 < delta < 1; got {observables}, {epsilon}, {delta}")
    return int(math.ceil(2 * math.log(2 * observables / delta) / epsilon**4))
