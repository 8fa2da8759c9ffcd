r"""Randomised single-copy quadrature measurements of one bosonic mode for CV classical shadows.

* :class:`RandomPhaseHomodyne` (``kind: random_phase_homodyne``): homodyne at a phase
  :math:`\theta\sim U[0,\pi)` drawn per copy; the pattern-function shadow
  :math:`\hat\rho_{mn} = e^{i(m-n)\theta}F_{mn}(x)` (PHYSICS.md 4.2; Gandhari et al. 2022,
  Becker et al. 2022).
* :class:`HeterodyneShadow` (``kind: heterodyne_shadow``): :math:`\hat\alpha\sim Q(\alpha)`;
  unbiased anti-normally ordered moments :math:`E[\hat\alpha^q\bar{\hat\alpha}^p] = \langle a^qa^{\dagger p}\rangle`.

Units: :math:`\hbar = 1` quadratures :math:`x_\theta = (ae^{-i\theta} + a^\dagger e^{i\theta})/\sqrt2`.
``efficiency`` :math:`\eta_d` is a beam splitter before an ideal detector (the samplers of
:mod:`sensing.physics.cv_shadows`); the analysis can invert it where the estimator allows.

Outcome model (the Detector contract's additive statistic; the analysis keeps the raw shots):

* homodyne: :math:`v = (2x\cos\theta, 2x\sin\theta, x^2)`, means :math:`(\langle x\rangle, \langle p\rangle,
  \langle a^\dagger a\rangle + 1/2)` of the state seen by the ideal detector;
* heterodyne: :math:`v = (\mathrm{Re}\,\hat\alpha, \mathrm{Im}\,\hat\alpha, |\hat\alpha|^2)`, means
  :math:`(\mathrm{Re}\langle a\rangle, \mathrm{Im}\langle a\rangle, \langle aa^\dagger\rangle)`.

Exact means and covariances come from Fock-space moments of the detected state
:math:`\rho' = \mathcal L_{\eta_d}(\rho)` (loss channel applied to the density matrix), in a space
padded by 4 levels so that products up to fourth order are exact; the homodyne phase average is
an equispaced rule exact for the trigonometric polynomials involved (degree <= 6).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics
from sensing.contracts.states import FockState
from sensing.physics import cv_shadows as cv

#: Equispaced phase nodes of the exact average over theta.
PHASE_NODES = 16



def _one_mode(state) -> None:
    """Refuse (a config error) a Fock state of more than one mode: these shadows are single-mode."""
    rho = np.asarray(state.density_matrix)
    if rho.ndim != 2 or rho.shape[0] != state.cutoff:
        raise ValueError(f"this CV shadow detector measures one mode; the scene's Fock state has "
                         f"{max(1, round(np.log(rho.size) / np.log(state.cutoff) / 2))} modes (use a cv_state source)")

class RandomPhaseHomodyneSettings(DetectorSettings):
    kind: Literal["random_phase_homodyne"] = "random_phase_homodyne"


class HeterodyneShadowSettings(DetectorSettings):
    kind: Literal["heterodyne_shadow"] = "heterodyne_shadow"


def _padded(rho: np.ndarray, extra: int = 4):
    d = len(rho)
    big = np.zeros((d + extra, d + extra), dtype=complex)
    big[:d, :d] = rho
    a = np.diag(np.sqrt(np.arange(1, d + extra)), 1).astype(complex)
    return big, a


class _CVModel(OutcomeModel):
    family = "gaussian"

    def __init__(self, state: FockState, efficiency: float):
        self.state = state
        self.efficiency = float(efficiency)
        self.rho = np.asarray(state.density_matrix, dtype=complex)
        self.detected = state.after_loss(self.efficiency)

    def reduce(self, outcomes: np.ndarray) -> Statistics:
        v = np.asarray(outcomes, dtype=float)
        return {"copies": np.array(v.shape[0], dtype=np.int64), "sums": v.sum(axis=0), "scatter": v.T @ v}

    def log_likelihood(self, statistics: Statistics) -> np.ndarray:
        raise NotImplementedError("shadow detectors offer snapshots, not a likelihood")

    def covariance(self) -> np.ndarray:
        mean, second = self._moments()
        return second - np.outer(mean, mean)

    def mean(self) -> np.ndarray:
        return self._moments()[0]


class RandomPhaseHomodyneModel(_CVModel):
    """Homodyne at a uniformly random phase; see the module docstring."""

    labels = ["x_cos", "x_sin", "x_squared"]

    def _moments(self):
        rho, a = _padded(self.detected)
        mean = np.zeros(3)
        second = np.zeros((3, 3))
        for theta in np.pi * np.arange(PHASE_NODES) / PHASE_NODES:
            x = (a * np.exp(-1j * theta) + a.conj().T * np.exp(1j * theta)) / np.sqrt(2)
            powers = [np.eye(len(x))]
            for _ in range(4):
                powers.append(powers[-1] @ x)
            m = [np.real(np.trace(rho @ p)) for p in powers]
            c = np.array([2 * np.cos(theta), 2 * np.sin(theta), 1.0])
            k = np.array([1, 1, 2])
            mean += c * np.array([m[i] for i in k])
            second += np.outer(c, c) * np.array([[m[i + j] for j in k] for i in k])
        return mean / PHASE_NODES, second / PHASE_NODES

    def snapshots(self, rng: np.random.Generator, copies: int) -> cv.HomodyneSamples:
        """Raw shots (phase, quadrature in hbar = 1 units) including the detector efficiency."""
        return cv.sample_homodyne_fock(self.rho, copies, rng, efficiency=self.efficiency)

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        s = self.snapshots(rng, copies)
        x, t = s.quadratures, s.phases
        return np.stack([2 * x * np.cos(t), 2 * x * np.sin(t), x**2], axis=1)


class HeterodyneShadowModel(_CVModel):
    """Heterodyne (Q-function) shots; see the module docstring."""

    labels = ["alpha_real", "alpha_imag", "alpha_abs_squared"]

    def _moments(self):
        rho, a = _padded(self.detected)
        ad = a.conj().T

        def anti(q, p):  # <a^q a^dag^p> = E[alpha^q conj(alpha)^p]
            return np.trace(rho @ np.linalg.matrix_power(a, q) @ np.linalg.matrix_power(ad, p))

        # components as polynomials {(q, p): coefficient} in alpha, conj(alpha)
        comps = [{(1, 0): 0.5, (0, 1): 0.5}, {(1, 0): -0.5j, (0, 1): 0.5j}, {(1, 1): 1.0}]

        def expect(poly):
            return float(np.real(sum(c * anti(q, p) for (q, p), c in poly.items())))

        def product(u, v):
            out: dict = {}
            for (q1, p1), c1 in u.items():
                for (q2, p2), c2 in v.items():
                    out[(q1 + q2, p1 + p2)] = out.get((q1 + q2, p1 + p2), 0) + c1 * c2
            return out

        mean = np.array([expect(c) for c in comps])
        second = np.array([[expect(product(u, v)) for v in comps] for u in comps])
        return mean, second

    def snapshots(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Raw complex outcomes :math:`\\hat\\alpha` including the detector efficiency."""
        return cv.sample_heterodyne_fock(self.rho, copies, rng, efficiency=self.efficiency)

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        z = self.snapshots(rng, copies)
        return np.stack([z.real, z.imag, np.abs(z) ** 2], axis=1)


class RandomPhaseHomodyne(Detector):
    """Homodyne detection at a uniformly random local-oscillator phase per copy (CV shadows)."""

    kind = "random_phase_homodyne"
    Settings = RandomPhaseHomodyneSettings
    accepts = FockState
    capabilities = frozenset({"snapshots"})

    @classmethod
    def example(cls):
        return ({"kind": "cv_state", "state": "cat", "alpha": [1.0, 0.0], "transmissivity": 0.9, "cutoff": 14},
                {"kind": "random_phase_homodyne", "name": "homodyne", "efficiency": 0.9})

    def output_labels(self, state) -> list[str]:
        _one_mode(state)
        return list(RandomPhaseHomodyneModel.labels)

    def outcome_model(self, state: FockState) -> RandomPhaseHomodyneModel:
        return RandomPhaseHomodyneModel(state, self.settings.efficiency)


class HeterodyneShadow(Detector):
    """Heterodyne (eight-port) detection of every copy (CV shadows from the Q function)."""

    kind = "heterodyne_shadow"
    Settings = HeterodyneShadowSettings
    accepts = FockState
    capabilities = frozenset({"snapshots"})

    @classmethod
    def example(cls):
        return ({"kind": "cv_state", "state": "squeezed_thermal", "squeezing_db": 2.0, "thermal_photons": 0.1,
                 "transmissivity": 0.8, "cutoff": 12},
                {"kind": "heterodyne_shadow", "name": "heterodyne", "efficiency": 0.9})

    def output_labels(self, state) -> list[str]:
        _one_mode(state)
        return list(HeterodyneShadowModel.labels)

    def outcome_model(self, state: FockState) -> HeterodyneShadowModel:
        return HeterodyneShadowModel(state, self.settings.efficiency)
