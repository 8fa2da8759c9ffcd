r"""Randomised single-copy measurements of photonic qubit registers for classical shadows.

* :class:`PauliShadow` (``kind: pauli_shadow``): every qubit measured in a uniformly random Pauli
  basis (X, Y or Z: a wave plate or a rail phase and beam splitter before two detectors);
  snapshot :math:`\hat\rho = \bigotimes_i (3U_i^\dagger|b_i\rangle\langle b_i|U_i - I)`
  (Huang, Kueng, Preskill 2020; PHYSICS.md 4.1).
* :class:`CliffordShadow` (``kind: clifford_shadow``): a uniformly random n-qubit Clifford
  before a computational-basis measurement, for small registers (n <= 3 here);
  :math:`\hat\rho = (2^n+1)U^\dagger|b\rangle\langle b|U - I`.

Photon loss and detector efficiency. A qubit whose photon is lost (transmissivity of the scene
times ``efficiency``) gives no click: a heralded erasure. Pauli shadows keep the other sites (the
estimators use, per observable, the snapshots whose support survived); a Clifford snapshot needs
every qubit, so a copy with any erasure is discarded.

Outcome model (the Detector contract's additive statistic). The snapshots themselves are
not additive: the analysis :mod:`sensing.analyzers.shadows` draws them through
:meth:`PauliShadowModel.snapshots` from its own stream of the root seed and keeps them. The
per-copy statistic the pipeline sums is the smallest honest one:

* Pauli: the one-hot vector of ``(qubit, basis, outcome)`` (6 entries per qubit, all zero when the
  qubit is erased). Exact mean :math:`\eta/3\cdot(1\pm\langle\sigma_b\rangle)/2`; exact covariance
  from the one- and two-qubit Pauli expectations (:meth:`PauliShadowModel.covariance`).
* Clifford: the one-hot vector of the measured stabilizer state :math:`|v\rangle = U^\dagger|b\rangle`,
  :math:`\Pr(v) = \eta^n 2^n\langle v|\rho|v\rangle/|\mathrm{Stab}_n|` (multinomial covariance).
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

import numpy as np

from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics
from sensing.contracts.states import QubitState, StabilizerState
from sensing.physics import shadows as sh

#: Largest register of the Clifford detector (its statistic has |Stab_n| entries: 6, 60, 1080).
MAX_CLIFFORD_QUBITS = 3
#: Largest register whose exact outcome covariance is formed (6n x 6n).
MAX_COVARIANCE_QUBITS = 200
#: Largest register whose counts are drawn from the exact joint law of one copy (7**n categories):
#: one multinomial per call, whatever the number of copies.
MAX_TABLE_QUBITS = 5


class PauliShadowSettings(DetectorSettings):
    kind: Literal["pauli_shadow"] = "pauli_shadow"


class CliffordShadowSettings(DetectorSettings):
    kind: Literal["clifford_shadow"] = "clifford_shadow"


class _NoLikelihood:
    def log_likelihood(self, statistics: Statistics) -> np.ndarray:
        raise NotImplementedError("shadow detectors offer snapshots, not a likelihood")


class _OneHotCounts:
    """Per-copy outcomes are one-hot vectors; their sufficient statistic is the counts of each."""

    def reduce(self, outcomes: np.ndarray) -> Statistics:
        outcomes = np.asarray(outcomes)
        return {"copies": np.array(outcomes.shape[0], dtype=np.int64), "counts": outcomes.sum(axis=0, dtype=np.int64)}


class PauliShadowModel(_OneHotCounts, _NoLikelihood, OutcomeModel):
    """Random-Pauli measurement of one register; see the module docstring."""

    family = "counts"

    def __init__(self, state: QubitState, efficiency: float):
        self.state = state
        self.survival = float(state.survival) * float(efficiency)
        n = state.qubits
        self.labels = [f"q{q}_{b}{s}" for q in range(n) for b in "XYZ" for s in "+-"]

    @cached_property
    def _bloch(self) -> np.ndarray:
        return self.state.bloch_vectors()

    def mean(self) -> np.ndarray:
        e = self._bloch  # (n, 3)
        signs = np.array([1.0, -1.0])
        return (self.survival / 3 * (1 + e[:, :, None] * signs) / 2).reshape(-1)

    def covariance(self) -> np.ndarray:
        r"""Exact covariance of the one-hot vector.

        Same qubit: :math:`\mathrm{diag}(\mu) - \mu\mu^T` (at most one entry is 1). Qubits
        :math:`q\ne r`: :math:`E[1_{q b s}1_{r c t}] = \frac{\eta^2}{9}\cdot
        \frac{1 + s\langle\sigma_b^q\rangle + t\langle\sigma_c^r\rangle + st\langle\sigma_b^q\sigma_c^r\rangle}{4}`.
        """
        n = self.state.qubits
        if n > MAX_COVARIANCE_QUBITS:
            raise ValueError(f"the exact outcome covariance of {n} qubits is too large (at most {MAX_COVARIANCE_QUBITS})")
        mu = self.mean()
        e1 = self._bloch
        pairs = [(q, r) for q in range(n) for r in range(q + 1, n)]
        strings = []
        for q, r in pairs:
            for b in "XYZ":
                for c in "XYZ":
                    chars = ["I"] * n
                    chars[q], chars[r] = b, c
                    strings.append("".join(chars))
        e2 = self.state.expectations(strings).reshape(len(pairs), 3, 3) if pairs else np.zeros((0, 3, 3))
        signs = np.array([1.0, -1.0])
        second = np.zeros((n, 6, n, 6))
        for k, (q, r) in enumerate(pairs):
            block = (1 + signs[None, :, None, None] * e1[q][:, None, None, None]
                     + signs[None, None, None, :] * e1[r][None, None, :, None]
                     + signs[None, :, None, None] * signs[None, None, None, :] * e2[k][:, None, :, None])
            block = self.survival**2 / 9 * block / 4  # (b, s, c, t)
            second[q, :, r, :] = block.reshape(6, 6)
            second[r, :, q, :] = block.reshape(6, 6).T
        second = second.reshape(6 * n, 6 * n)
        for q in range(n):
            sl = slice(6 * q, 6 * q + 6)
            second[sl, sl] = np.diag(mu[sl])
        return second - np.outer(mu, mu)

    def snapshots(self, rng: np.random.Generator, copies: int) -> sh.PauliSnapshots:
        """``copies`` random-Pauli snapshots with the state's noise and the erasures."""
        s = self.state
        if isinstance(s, StabilizerState):
            snaps = sh.sample_stabilizer_snapshots(s.circuit, copies, rng)
        else:
            snaps = sh.sample_dense_snapshots(s.dense(), copies, rng)
        if s.depolarizing or s.dephasing:
            snaps = sh.apply_pauli_noise(snaps, rng, s.depolarizing, s.dephasing)
        if self.survival < 1:
            snaps = sh.apply_erasure(snaps, rng, 1 - self.survival)
        return snaps

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        snaps = self.snapshots(rng, copies)
        n = self.state.qubits
        out = np.zeros((copies, n, 6), dtype=np.int64)
        c, q = np.nonzero(~snaps.erased)
        out[c, q, 2 * snaps.bases[c, q].astype(np.int64) + snaps.bits[c, q]] = 1
        return out.reshape(copies, 6 * n)

    @cached_property
    def _joint_law(self) -> np.ndarray:
        r"""Exact law of one copy's outcome, flat over :math:`7^n` categories: per qubit the
        6 kept ``(basis, bit)`` entries (times the survival) and one erased entry (for small n).

        From the noisy density matrix (the Pauli noise before the measurement flips outcomes
        exactly as :func:`~sensing.physics.shadows.apply_pauli_noise` does) and independent erasures."""
        table = sh.pauli_outcome_probabilities(self.state.density_matrix())
        eta = self.survival
        for axis in range(table.ndim):
            table = np.concatenate([eta * table, (1 - eta) * table.sum(axis=axis, keepdims=True)], axis=axis)
        table = np.clip(table.reshape(-1), 0.0, None)
        return table / table.sum()

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Counts of ``copies`` copies: for n <= :data:`MAX_TABLE_QUBITS` one multinomial draw
        over the exact joint law of a copy (cost independent of ``copies``), else the snapshots
        counted directly (never a dense copies x outputs array)."""
        n = self.state.qubits
        if n <= MAX_TABLE_QUBITS:
            joint = rng.multinomial(copies, self._joint_law).reshape((7,) * n)
            counts = np.stack([joint.sum(axis=tuple(a for a in range(n) if a != q))[:6] for q in range(n)])
            return {"copies": np.array(copies, dtype=np.int64), "counts": counts.reshape(-1).astype(np.int64)}
        counts = np.zeros(6 * n, dtype=np.int64)
        chunk = max(1, (1 << 20) // n)
        for start in range(0, copies, chunk):
            snaps = self.snapshots(rng, min(chunk, copies - start))
            c, q = np.nonzero(~snaps.erased)
            index = 6 * q + 2 * snaps.bases[c, q].astype(np.int64) + snaps.bits[c, q]
            counts += np.bincount(index, minlength=6 * n)
        return {"copies": np.array(copies, dtype=np.int64), "counts": counts}

    def draws_per_copy(self) -> float:
        """0 for small registers (one multinomial per call); else what :meth:`snapshots` draws per
        copy: n bases, n outcomes (stim's bits or the chain rule's uniforms, plus the mixture
        component of a dense state), 2n for Pauli noise, 2n for erasures."""
        s = self.state
        n = s.qubits
        if n <= MAX_TABLE_QUBITS:
            return 0.0
        draws = 2 * n + (0 if isinstance(s, StabilizerState) else 1)
        if s.depolarizing or s.dephasing:
            draws += 2 * n
        if self.survival < 1:
            draws += 2 * n
        return float(draws)


class PauliShadow(Detector):
    """Random single-qubit Pauli-basis measurement of every qubit (classical shadows)."""

    kind = "pauli_shadow"
    Settings = PauliShadowSettings
    accepts = QubitState
    capabilities = frozenset({"snapshots"})

    @classmethod
    def example(cls):
        return ({"kind": "qubit_state", "state": "ghz", "qubits": 3, "transmissivity": 0.9, "depolarizing": 0.05},
                {"kind": "pauli_shadow", "name": "pauli", "efficiency": 0.95})

    @classmethod
    def examples(cls):
        dense = ({"kind": "qubit_state", "state": "haar", "qubits": 2, "rank": 2, "transmissivity": 0.8, "dephasing": 0.1},
                 {"kind": "pauli_shadow", "name": "pauli"})
        return [cls.example(), dense]

    def output_labels(self, state) -> list[str]:
        return [f"q{q}_{b}{s}" for q in range(state.qubits) for b in "XYZ" for s in "+-"]

    def outcome_model(self, state: QubitState) -> PauliShadowModel:
        return PauliShadowModel(state, self.settings.efficiency)


class CliffordShadowModel(_OneHotCounts, _NoLikelihood, OutcomeModel):
    """Random n-qubit Clifford measurement of one small register; see the module docstring."""

    family = "counts"

    def __init__(self, state: QubitState, efficiency: float):
        n = state.qubits
        if n > MAX_CLIFFORD_QUBITS:
            raise ValueError(f"random-Clifford shadows here serve at most {MAX_CLIFFORD_QUBITS} qubits, got {n}")
        self.state = state
        self.survival = float(state.survival) * float(efficiency)
        self.rho = state.density_matrix()
        self.stabilizer_states = sh.stabilizer_states(n)
        self.labels = [f"stab{k}" for k in range(len(self.stabilizer_states))]

    @cached_property
    def _probabilities(self) -> np.ndarray:
        v = self.stabilizer_states
        p = np.real(np.einsum("vi,ij,vj->v", v.conj(), self.rho, v))
        return np.clip(p, 0, None) * 2**self.state.qubits / len(v)

    def mean(self) -> np.ndarray:
        return self.survival**self.state.qubits * self._probabilities

    def covariance(self) -> np.ndarray:
        mu = self.mean()
        return np.diag(mu) - np.outer(mu, mu)

    def snapshots(self, rng: np.random.Generator, copies: int) -> tuple[np.ndarray, np.ndarray]:
        """``(stabilizer_index (copies,) int, erased (copies,) bool)``: index into
        :func:`sensing.physics.shadows.stabilizer_states` and whether the copy lost a photon."""
        p = self._probabilities
        index = rng.choice(len(p), size=copies, p=p / p.sum())
        erased = (rng.random((copies, self.state.qubits)) >= self.survival).any(axis=1)
        return index.astype(np.int64), erased

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        index, erased = self.snapshots(rng, copies)
        out = np.zeros((copies, len(self.labels)), dtype=np.int64)
        keep = np.flatnonzero(~erased)
        out[keep, index[keep]] = 1
        return out

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Counts of ``copies`` copies in one multinomial draw: a copy is kept (no erasure, probability
        :math:`\eta^n`) with the stabilizer state ``v`` drawn from its exact law, the same law as
        :meth:`snapshots`; cost independent of ``copies`` (:meth:`draws_per_copy` is 0)."""
        p = self._probabilities
        kept = self.survival**self.state.qubits * p / p.sum()
        counts = rng.multinomial(copies, np.append(kept, max(0.0, 1.0 - kept.sum())))[:-1]
        return {"copies": np.array(copies, dtype=np.int64), "counts": counts.astype(np.int64)}


class CliffordShadow(Detector):
    """A uniformly random n-qubit Clifford, then all qubits in Z (small registers)."""

    kind = "clifford_shadow"
    Settings = CliffordShadowSettings
    accepts = QubitState
    capabilities = frozenset({"snapshots"})

    @classmethod
    def example(cls):
        return ({"kind": "qubit_state", "state": "haar", "qubits": 2, "transmissivity": 0.9, "depolarizing": 0.05},
                {"kind": "clifford_shadow", "name": "clifford", "efficiency": 0.95})

    def output_labels(self, state) -> list[str]:
        if state.qubits > MAX_CLIFFORD_QUBITS:
            raise ValueError(f"clifford_shadow serves at most {MAX_CLIFFORD_QUBITS} qubits; the source has {state.qubits}")
        return [f"stab{k}" for k in range(len(sh.stabilizer_states(state.qubits)))]

    def outcome_model(self, state: QubitState) -> CliffordShadowModel:
        return CliffordShadowModel(state, self.settings.efficiency)
