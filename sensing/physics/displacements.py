r"""Random displacement distributions p(alpha) of an n-mode bosonic channel, and query sets.

Pure numpy (arrays in, arrays out). Real layout used everywhere:
:math:`a = (\mathrm{Re}\,\alpha_1..\mathrm{Re}\,\alpha_n, \mathrm{Im}\,\alpha_1..\mathrm{Im}\,\alpha_n)`
and :math:`\beta\cdot\alpha^* - \beta^*\cdot\alpha = i\,w\cdot a` with
:math:`w = 2(\mathrm{Im}\,\beta, -\mathrm{Re}\,\beta)` (PHYSICS.md section 1.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Largest number of modes (the EF/EA separation is shown at 100).
MAX_MODES = 1000

class DisplacementDistribution:
    """Distribution :math:`p(\\alpha)` of the displacement of ``modes`` modes.

    Real layout: :math:`a = (\\mathrm{Re}\\,\\alpha_1..\\mathrm{Re}\\,\\alpha_n,
    \\mathrm{Im}\\,\\alpha_1..\\mathrm{Im}\\,\\alpha_n)`.
    """

    modes: int

    def characteristic(self, w: np.ndarray) -> np.ndarray:
        r""":math:`\Lambda(w) = E[e^{i w\cdot a}]` for real ``w`` of shape ``(..., 2n)`` (complex ``(...)``)."""
        raise NotImplementedError

    def phase_law(self, w: np.ndarray):
        """What :meth:`sample_phases` needs for the fixed query vectors ``w`` (shape ``(Q, 2n)``)."""
        raise NotImplementedError

    def sample_phases(self, rng: np.random.Generator, law, copies: int) -> np.ndarray:
        """Exact draws of :math:`w_q\\cdot a` for every query, shape ``(copies, Q)``."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Displacements :math:`\\alpha`, complex shape ``(copies, n)``."""
        raise NotImplementedError

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (2n,) and covariance (2n, 2n) of :math:`a`."""
        raise NotImplementedError


@dataclass(frozen=True)
class GaussianDisplacements(DisplacementDistribution):
    r""":math:`a \sim \mathcal N(m, \Sigma)` with
    :math:`\Sigma = \tfrac{v}{2}\,[(1-c)I + c\,\mathbf 1\mathbf 1^T]\oplus(\text{same})`:
    :math:`E|\alpha_j - \bar\alpha_j|^2 = v` per mode, correlation ``c`` between any two modes
    (same for real and imaginary parts, none between them: a phase-insensitive channel)."""

    modes: int
    variance: float
    correlation: float
    mean: complex

    def _quadrature_cov(self) -> np.ndarray:
        n = self.modes
        return 0.5 * self.variance * ((1 - self.correlation) * np.eye(n) + self.correlation * np.ones((n, n)))

    def moments(self):
        n = self.modes
        block = self._quadrature_cov()
        cov = np.zeros((2 * n, 2 * n))
        cov[:n, :n] = cov[n:, n:] = block
        mean = np.concatenate([np.full(n, self.mean.real), np.full(n, self.mean.imag)])
        return mean, cov

    def characteristic(self, w):
        w = np.asarray(w, dtype=float)
        n = self.modes
        wx, wp = w[..., :n], w[..., n:]
        block = self._quadrature_cov()
        quad = np.einsum("...i,ij,...j->...", wx, block, wx) + np.einsum("...i,ij,...j->...", wp, block, wp)
        lin = self.mean.real * wx.sum(-1) + self.mean.imag * wp.sum(-1)
        return np.exp(1j * lin - 0.5 * quad)

    def phase_law(self, w):
        mean, cov = self.moments()
        w = np.asarray(w, dtype=float)
        return w @ mean, psd_sqrt(w @ cov @ w.T)

    def sample_phases(self, rng, law, copies):
        centre, root = law
        return centre + rng.standard_normal((copies, centre.size)) @ root.T

    def sample(self, rng, copies):
        n = self.modes
        scale = np.sqrt(self.variance / 2)
        # c-correlated modes: common part sqrt(c) z0 plus independent part sqrt(1-c) z_j
        common = rng.standard_normal((copies, 1, 2)) * np.sqrt(self.correlation)
        own = rng.standard_normal((copies, n, 2)) * np.sqrt(1 - self.correlation)
        a = scale * (common + own)
        return self.mean + a[..., 0] + 1j * a[..., 1]


@dataclass(frozen=True)
class MixtureDisplacements(DisplacementDistribution):
    r""":math:`p(\alpha) = \sum_k p_k\,\delta(\alpha - \alpha_k)`;
    :math:`\Lambda(w) = \sum_k p_k e^{i w\cdot a_k}` (PHYSICS.md §1.3 checkpoint mixture)."""

    modes: int
    weights: np.ndarray = field(repr=False)  # (K,)
    displacements: np.ndarray = field(repr=False)  # (K, n) complex

    def _real(self) -> np.ndarray:
        return np.concatenate([self.displacements.real, self.displacements.imag], axis=1)  # (K, 2n)

    def moments(self):
        a = self._real()
        mean = self.weights @ a
        centred = a - mean
        return mean, (centred.T * self.weights) @ centred

    def characteristic(self, w):
        w = np.asarray(w, dtype=float)
        return np.exp(1j * (w @ self._real().T)) @ self.weights

    def phase_law(self, w):
        return np.asarray(w, dtype=float) @ self._real().T  # (Q, K)

    def sample_phases(self, rng, law, copies):
        component = rng.choice(self.weights.size, size=copies, p=self.weights)
        return law[:, component].T

    def sample(self, rng, copies):
        return self.displacements[rng.choice(self.weights.size, size=copies, p=self.weights)]


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """A real R with R R^T = matrix for a positive semidefinite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def query_vectors(queries: np.ndarray) -> np.ndarray:
    r"""Real vectors :math:`w = 2(\mathrm{Im}\,\beta, -\mathrm{Re}\,\beta)` of complex queries ``(Q, n)`` -> ``(Q, 2n)``."""
    queries = np.asarray(queries, dtype=complex)
    return 2.0 * np.concatenate([queries.imag, -queries.real], axis=-1)


def make_queries(modes: int, count: int, amplitude: float, region: str, rng: np.random.Generator) -> np.ndarray:
    r"""The query set :math:`\{\beta_q\}`, complex shape ``(count, modes)``.

    ``sphere``: :math:`|\beta_{q,j}| = \kappa` for every mode with uniformly random phases, so
    :math:`|\beta_q|^2 = n\kappa^2` exactly (the worst case of the region dominates the
    Hoeffding count; every query is equally hard). ``axes``: the same norm with phases in
    {0, pi/2, pi, 3pi/2}, so each :math:`\beta_j` is real or imaginary (what single-quadrature
    homodyne strategies can answer). ``gaussian``:
    :math:`\beta_{q,j}\sim\mathcal{CN}(0,\kappa^2)` (the averaged-query model of PHYSICS.md §1.2).
    ``rng`` is the task's own stream (not the data's), so the queries are part of the task.
    """
    if region == "sphere":
        return amplitude * np.exp(2j * np.pi * rng.random((count, modes)))
    if region == "axes":
        return amplitude * 1j ** rng.integers(0, 4, size=(count, modes))
    return amplitude * (rng.standard_normal((count, modes)) + 1j * rng.standard_normal((count, modes))) / np.sqrt(2)
