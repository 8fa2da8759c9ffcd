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

from functools import cached_property
from typing import Literal

import numpy as np
from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics
from sensing.contracts.states import FockState
from sensing.physics import cv_shadows as cv

#: Equispaced phase nodes of the exact average over theta.
PHASE_NODES = 16
#: Copies drawn at once by the summing samplers (``sample_statistics``).
SAMPLE_BLOCK = 1 << 14


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

    @cached_property
    def _envelope(self) -> tuple[float, float]:
        weights = np.clip(np.real(np.diag(self.detected)), 0, None)
        return cv.quadrature_marginal_envelope(weights / weights.sum())

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        r"""Sums and scatter of ``copies`` shots drawn from the exact law of :math:`(\varphi, x_\varphi)`
        of the detected state :math:`\mathcal L_{\eta_d}(\rho)` (x from its phase-averaged marginal,
        the phase from its conditional law: :func:`sensing.physics.cv_shadows.sample_homodyne_polar`);
        the statistic :math:`(2x\cos\theta, 2x\sin\theta, x^2)` has the same law as from
        :meth:`sample` (rejection in :math:`(\theta, x)` of the state before the loss, then the loss's
        noise), other draws."""
        sums, scatter = np.zeros(3), np.zeros((3, 3))
        for start in range(0, copies, SAMPLE_BLOCK):
            x, cos, sin, _ = cv.sample_homodyne_polar(self.detected, min(SAMPLE_BLOCK, copies - start), rng,
                                                      self._envelope)
            v = np.stack([2 * x * cos, 2 * x * sin, x * x])
            sums += v.sum(axis=1)
            scatter += v @ v.T
        return {"copies": np.array(copies, dtype=np.int64), "sums": sums, "scatter": scatter}

    def draws_per_copy(self) -> float:
        r"""Mean random numbers per copy of :meth:`sample_statistics`: two per x proposal (mean
        proposals: the envelope's bound M, times 1.1 for the over-draw of a block), two per phase
        try (mean tries :math:`\int(g_0 + 2\sum_d|g_d(x)|)dx` over the quadrature, trapezoid on a
        0.01 grid: ample for a cost figure)."""
        if "_draws" not in self.__dict__:
            rho = self.detected
            dim = len(rho)
            grid = np.arange(-12.0 - 2 * np.sqrt(dim), 12.0 + 2 * np.sqrt(dim), 0.01)
            psi = cv.hermite_functions(dim - 1, grid)
            total = np.real(np.diag(rho)) @ (psi * psi)
            for d in range(1, dim):
                total = total + 2 * np.abs(rho[np.arange(dim - d), np.arange(d, dim)] @ (psi[: dim - d] * psi[d:]))
            tries = float(total.sum() * 0.01) / float(np.real(np.trace(rho)))
            self._draws = 2 * 1.1 * self._envelope[1] + 2 * tries
        return self._draws


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

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        r"""Sums and scatter of ``copies`` heterodyne outcomes, drawn in polar form from the exact
        Q function of the detected state :math:`\mathcal L_{\eta_d}(\rho)` (radius from its Gamma
        mixture, phase from its trigonometric-polynomial conditional law:
        :func:`sensing.physics.cv_shadows.sample_heterodyne_polar`); the same law as :meth:`sample`
        (which rejection-samples :math:`Q(\rho)` and adds the efficiency's noise), other draws."""
        sums, scatter = np.zeros(3), np.zeros((3, 3))
        for start in range(0, copies, SAMPLE_BLOCK):
            t, cos, sin, _ = cv.sample_heterodyne_polar(self.detected, min(SAMPLE_BLOCK, copies - start), rng)
            r = np.sqrt(t)
            v = np.stack([r * cos, r * sin, t])
            sums += v.sum(axis=1)
            scatter += v @ v.T
        return {"copies": np.array(copies, dtype=np.int64), "sums": sums, "scatter": scatter}

    def draws_per_copy(self) -> float:
        r"""Mean random numbers per copy of :meth:`sample_statistics`: a uniform for the level, the
        gamma variate (1 for level 0, else 2), two uniforms per phase try; the mean tries at radius t
        are :math:`(g_0 + 2\sum_d|g_d(t)|)/g_0`, whose mean over the radial law is
        :math:`\int_0^\infty (g_0 + 2\sum_d|g_d|)\,dt` (Gauss-Laguerre, 120 nodes, on the scaled
        coefficients: ample for a cost figure)."""
        if "_draws" not in self.__dict__:
            coef, weights = cv.heterodyne_polar_coefficients(self.detected)
            t, w = np.polynomial.laguerre.laggauss(120)  # int e^{-t} f(t) dt
            powers = np.exp(np.multiply.outer(0.5 * np.log(t), np.arange(coef.shape[0])))  # t^{s/2}, g = e^{-t} (...)
            g = powers @ coef
            tries = float(w @ (g[:, 0].real + 2 * np.abs(g[:, 1:]).sum(axis=1)))
            self._draws = 1.0 + (1 + (weights[1:].sum())) + 2 * tries
        return self._draws


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
