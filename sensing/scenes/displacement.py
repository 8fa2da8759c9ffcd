r"""An n-mode random displacement channel and the task of learning its characteristic function.

Oh et al., "Entanglement-enabled advantage for learning a bosonic random displacement
channel", PRL 133, 230604 (2024), arXiv:2402.18809; Liu et al., "Quantum learning advantage
on a scalable photonic platform", Science 389, 1332 (2025), arXiv:2502.07770.

The channel (PHYSICS.md §1.2) is

.. math:: \Lambda(\rho) = \int d^{2n}\alpha\; p(\alpha)\, D(\alpha)\rho D(\alpha)^\dagger,
          \qquad \lambda(\beta) = E_{\alpha\sim p}\big[e^{\beta\cdot\alpha^* - \beta^*\cdot\alpha}\big],

and :math:`\Lambda^\dagger(D(\beta)) = \lambda(\beta) D(\beta)`. One copy is one use of the
channel. The learner must estimate :math:`\lambda(\beta_q)` at ``queries`` points
:math:`\beta_q` revealed after the data were taken; the query set belongs to the task and is
therefore part of the scene (``query_region``, ``query_amplitude``, ``query_seed``).

Real-vector form used everywhere in the code: :math:`a = (\mathrm{Re}\,\alpha,
\mathrm{Im}\,\alpha)` (length 2n, "xxpp" order) and
:math:`\beta\cdot\alpha^* - \beta^*\cdot\alpha = i\,w\cdot a` with
:math:`w = 2(\mathrm{Im}\,\beta, -\mathrm{Re}\,\beta)`, so
:math:`\lambda(\beta) = \Lambda(w) := E[e^{i w\cdot a}]`, the ordinary characteristic
function of the displacement distribution.

The probe is chosen by the detectors (vacuum, coherent, squeezed, or half of a two-mode
squeezed vacuum whose partner sits in a quantum memory), so the scene's
:meth:`~DisplacementChannelScene.program` describes the channel acting on the **vacuum
reference probe**: the state is the moment-matched Gaussian with covariance
:math:`I + 4\,\mathrm{Cov}(a)` and means :math:`2E[a]` (SF units, :math:`\hbar=2`), exact
for a Gaussian :math:`p` and the first two moments of the (non-Gaussian) output for a
mixture. The state object also carries the channel and the query set for the detectors
(:class:`DisplacementChannelState`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensing.registry import register_scene
from sensing.scenes.base import Parameter, Scene
from sensing.states import GaussianState

#: Largest number of modes (the EF/EA separation is shown at 100).
MAX_MODES = 1000
#: Above this many modes the state is built in closed form instead of by SF (checked equal in tests).
SF_STATE_MAX_MODES = 16


# ---------------------------------------------------------------------------------------------
# Displacement distributions (pure numpy)
# ---------------------------------------------------------------------------------------------
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
        return w @ mean, _psd_sqrt(w @ cov @ w.T)

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


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """A real R with R R^T = matrix for a positive semidefinite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def query_vectors(queries: np.ndarray) -> np.ndarray:
    r"""Real vectors :math:`w = 2(\mathrm{Im}\,\beta, -\mathrm{Re}\,\beta)` of complex queries ``(Q, n)`` -> ``(Q, 2n)``."""
    queries = np.asarray(queries, dtype=complex)
    return 2.0 * np.concatenate([queries.imag, -queries.real], axis=-1)


def make_queries(modes: int, count: int, amplitude: float, region: str, seed: int) -> np.ndarray:
    r"""The query set :math:`\{\beta_q\}`, complex shape ``(count, modes)``.

    ``sphere``: :math:`|\beta_{q,j}| = \kappa` for every mode with uniformly random phases, so
    :math:`|\beta_q|^2 = n\kappa^2` exactly (the worst case of the region dominates the
    Hoeffding count; every query is equally hard). ``axes``: the same norm with phases in
    {0, pi/2, pi, 3pi/2}, so each :math:`\beta_j` is real or imaginary (what single-quadrature
    homodyne strategies can answer). ``gaussian``:
    :math:`\beta_{q,j}\sim\mathcal{CN}(0,\kappa^2)` (the averaged-query model of PHYSICS.md §1.2).
    The draw uses its own seed so that it is part of the task, not of the data.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(modes,)))
    if region == "sphere":
        return amplitude * np.exp(2j * np.pi * rng.random((count, modes)))
    if region == "axes":
        return amplitude * 1j ** rng.integers(0, 4, size=(count, modes))
    return amplitude * (rng.standard_normal((count, modes)) + 1j * rng.standard_normal((count, modes))) / np.sqrt(2)


# ---------------------------------------------------------------------------------------------
# Scene
# ---------------------------------------------------------------------------------------------
class MixtureComponent(BaseModel):
    """One displacement of a finite mixture (the same complex value on every mode)."""

    model_config = ConfigDict(extra="forbid")

    weight: float = Field(gt=0.0, description="probability of this displacement (weights are normalised)")
    displacement: tuple[float, float] = Field(description="[Re alpha, Im alpha] applied to every mode")


class DisplacementChannelSettings(BaseModel):
    """Config of ``source.kind: displacement_channel``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["displacement_channel"] = "displacement_channel"
    modes: int = Field(ge=1, le=MAX_MODES, description="number of bosonic modes n of the channel")
    distribution: Literal["gaussian", "mixture"] = Field("gaussian", description="family of p(alpha)")
    variance: float = Field(0.1, ge=0.0, le=100.0, description="gaussian: E|alpha_j - mean|^2 per mode")
    correlation: float = Field(0.0, ge=0.0, lt=1.0, description="gaussian: correlation between any two modes")
    mean: tuple[float, float] = Field((0.0, 0.0), description="gaussian: [Re, Im] of the mean displacement of every mode")
    components: list[MixtureComponent] | None = Field(
        None, min_length=1, description="mixture: displacements and weights (same value on every mode)"
    )
    random_components: int | None = Field(
        None, ge=1, le=10_000, description="mixture: draw this many per-mode displacements CN(0, component_scale^2) instead"
    )
    component_scale: float = Field(0.3, gt=0.0, le=10.0, description="mixture: scale of random component displacements")
    component_seed: int = Field(0, ge=0, description="seed of the random mixture components (part of the channel)")
    queries: int = Field(8, ge=1, le=1024, description="number of query points beta_q (dim `query`)")
    query_amplitude: float = Field(
        0.4472135955, gt=0.0, le=10.0, description="kappa: per-mode query size |beta_j| (sphere) or rms (gaussian)"
    )
    query_region: Literal["sphere", "axes", "gaussian"] = Field("sphere", description="how query points are drawn")
    query_seed: int = Field(2402_18809, ge=0, description="seed of the query draw (part of the task)")

    @model_validator(mode="after")
    def _mixture_needs_components(self):
        if self.distribution == "mixture" and (self.components is None) == (self.random_components is None):
            raise ValueError("distribution 'mixture' needs exactly one of `components` or `random_components`")
        return self


@dataclass(frozen=True)
class DisplacementChannelState(GaussianState):
    """The vacuum reference probe after the channel (moment-matched Gaussian, SF units), plus the
    channel and the query set that detectors need to build their probes and statistics."""

    channel: DisplacementDistribution | None = None
    queries: np.ndarray | None = None


@register_scene("displacement_channel")
class DisplacementChannelScene(Scene):
    r"""An n-mode random displacement channel with a Gaussian or finite-mixture :math:`p(\alpha)`.

    ``parameters``: ``variance``, the mean per-mode displacement energy
    :math:`E|\alpha_j - \bar\alpha_j|^2` (for a mixture, the value implied by its components).
    ``photons_per_copy``: :math:`E|\alpha|^2 = \sum_j E|\alpha_j|^2`, the mean number of photons
    the channel adds to a vacuum probe per use; it does not depend on the probe a detector sends.
    """

    Settings = DisplacementChannelSettings
    parameter_names = ("variance",)
    default_analysis = "channel_learning"
    provides = frozenset({"displacement_channel"})

    def __init__(self, settings: DisplacementChannelSettings):
        super().__init__(settings)
        self.channel = self.distribution(settings)
        mean, cov = self.channel.moments()
        per_mode = float(np.trace(cov)) / settings.modes
        self._parameters = {"variance": Parameter("variance", per_mode, "photons", (0.0, max(1.0, 10 * per_mode)), 1e-4)}
        self.queries = make_queries(settings.modes, settings.queries, settings.query_amplitude, settings.query_region, settings.query_seed)

    @staticmethod
    def distribution(s: DisplacementChannelSettings, variance: float | None = None) -> DisplacementDistribution:
        """The displacement distribution the settings describe."""
        if s.distribution == "gaussian":
            return GaussianDisplacements(s.modes, s.variance if variance is None else variance, s.correlation, complex(*s.mean))
        if s.components is not None:
            weights = np.array([c.weight for c in s.components], dtype=float)
            values = np.array([complex(*c.displacement) for c in s.components])
            displacements = np.repeat(values[:, None], s.modes, axis=1)
        else:
            rng = np.random.default_rng(np.random.SeedSequence(s.component_seed, spawn_key=(s.modes,)))
            k = s.random_components
            weights = rng.dirichlet(np.ones(k))
            displacements = s.component_scale * (rng.standard_normal((k, s.modes)) + 1j * rng.standard_normal((k, s.modes))) / np.sqrt(2)
        return MixtureDisplacements(s.modes, weights / weights.sum(), displacements)

    def resized(self, modes: int) -> "DisplacementChannelScene":
        """The same task family on ``modes`` modes (used by the sample-complexity-vs-modes analysis)."""
        return type(self)(self.settings.model_copy(update={"modes": int(modes)}))

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self._parameters

    @property
    def photons_per_copy(self) -> float:
        mean, cov = self.channel.moments()
        return float(np.trace(cov) + mean @ mean)

    def characteristic_function(self, queries: np.ndarray | None = None) -> np.ndarray:
        r"""Exact :math:`\lambda(\beta_q)` at the scene's (or the given) complex queries, shape ``(Q,)``."""
        return self.channel.characteristic(query_vectors(self.queries if queries is None else queries))

    # -- Strawberry Fields ------------------------------------------------------------------------
    def _channel(self, values):
        values = self.values(values)
        if values["variance"] == self._parameters["variance"].value:
            return self.channel
        if self.settings.distribution != "gaussian":
            raise ValueError("only the Gaussian channel can be re-evaluated at another variance")
        return self.distribution(self.settings, values["variance"])

    def reference_moments(self, values: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Closed form: vacuum probe through the channel, ``(cov, means)`` in SF units (hbar = 2)."""
        mean, cov = self._channel(values).moments()
        return np.eye(2 * self.settings.modes) + 4.0 * cov, 2.0 * mean

    def program(self, values: Mapping[str, float] | None = None):
        """SF program: the vacuum reference probe after the channel (moment-matched ``Gaussian`` preparation)."""
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        cov, means = self.reference_moments(values)
        prog = sf.Program(self.settings.modes)
        with prog.context as q:
            sf.ops.Gaussian(cov, means, decomp=False) | q
        return prog

    def state(self, values: Mapping[str, float] | None = None) -> DisplacementChannelState:
        if self.settings.modes <= SF_STATE_MAX_MODES:
            base = self.run_gaussian(self.program(values))
            cov, means = base.cov, base.means
        else:  # SF's dense n-mode backend is slow for hundreds of modes; same numbers (tested)
            cov, means = self.reference_moments(values)
        return DisplacementChannelState(cov, means, classical=True, channel=self._channel(values), queries=self.queries)
