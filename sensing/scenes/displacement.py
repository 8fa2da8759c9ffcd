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
therefore part of the scene (``query_region``, ``query_amplitude``; drawn from the run's root
seed, :mod:`sensing.contracts.seeds`).

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
(:class:`~sensing.contracts.states.ChannelProbe`).
"""

from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensing.contracts.scene import Parameter, Scene
from sensing.contracts.states import ChannelProbe, GaussianState
from sensing.physics.displacements import (
    MAX_MODES,
    DisplacementDistribution,
    GaussianDisplacements,
    MixtureDisplacements,
    make_queries,
    query_vectors,
)

#: Above this many modes the state is built in closed form instead of by SF (checked equal in tests).
SF_STATE_MAX_MODES = 16

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
    queries: int = Field(8, ge=1, le=1024, description="number of query points beta_q (dim `query`)")
    query_amplitude: float = Field(
        0.4472135955, gt=0.0, le=10.0, description="kappa: per-mode query size |beta_j| (sphere) or rms (gaussian)"
    )
    query_region: Literal["sphere", "axes", "gaussian"] = Field("sphere", description="how query points are drawn")

    @model_validator(mode="after")
    def _mixture_needs_components(self):
        if self.distribution == "mixture" and (self.components is None) == (self.random_components is None):
            raise ValueError("distribution 'mixture' needs exactly one of `components` or `random_components`")
        return self


class DisplacementChannelScene(Scene):
    r"""An n-mode random displacement channel with a Gaussian or finite-mixture :math:`p(\alpha)`.

    ``parameters``: ``variance``, the mean per-mode displacement energy
    :math:`E|\alpha_j - \bar\alpha_j|^2` (for a mixture, the value implied by its components).
    ``photons_per_copy``: :math:`E|\alpha|^2 = \sum_j E|\alpha_j|^2`, the mean number of photons
    the channel adds to a vacuum probe per use; it does not depend on the probe a detector sends.
    """

    kind = "displacement_channel"

    Settings = DisplacementChannelSettings
    parameter_names = ("variance",)
    default_analysis = "channel_learning"
    provides = frozenset({GaussianState, ChannelProbe})

    #: Task streams (:meth:`task_generator`): the query set and random mixture components.
    QUERY_STREAM, COMPONENT_STREAM = 0, 1

    @classmethod
    def example(cls):
        return {"kind": "displacement_channel", "modes": 2, "distribution": "gaussian", "variance": 0.2, "correlation": 0.3, "queries": 3}

    def __init__(self, settings: DisplacementChannelSettings, seed: int = 0):
        super().__init__(settings, seed)
        self.channel = self.distribution(settings, rng=self.task_generator(self.COMPONENT_STREAM, settings.modes))
        mean, cov = self.channel.moments()
        per_mode = float(np.trace(cov)) / settings.modes
        self._parameters = {"variance": Parameter("variance", per_mode, "photons", (0.0, max(1.0, 10 * per_mode)), 1e-4)}
        self.queries = make_queries(settings.modes, settings.queries, settings.query_amplitude, settings.query_region,
                                    self.task_generator(self.QUERY_STREAM, settings.modes))

    @staticmethod
    def distribution(s: DisplacementChannelSettings, variance: float | None = None,
                     rng: np.random.Generator | None = None) -> DisplacementDistribution:
        """The displacement distribution the settings describe."""
        if s.distribution == "gaussian":
            return GaussianDisplacements(s.modes, s.variance if variance is None else variance, s.correlation, complex(*s.mean))
        if s.components is not None:
            weights = np.array([c.weight for c in s.components], dtype=float)
            values = np.array([complex(*c.displacement) for c in s.components])
            displacements = np.repeat(values[:, None], s.modes, axis=1)
        else:
            if rng is None:
                raise ValueError("random mixture components need the task's generator")
            k = s.random_components
            weights = rng.dirichlet(np.ones(k))
            displacements = s.component_scale * (rng.standard_normal((k, s.modes)) + 1j * rng.standard_normal((k, s.modes))) / np.sqrt(2)
        return MixtureDisplacements(s.modes, weights / weights.sum(), displacements)

    def resized(self, modes: int) -> "DisplacementChannelScene":
        """The same task family on ``modes`` modes (used by the sample-complexity-vs-modes analysis)."""
        return type(self)(self.settings.model_copy(update={"modes": int(modes)}), self.seed)

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

    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        if self.settings.modes <= SF_STATE_MAX_MODES:
            base = self.run_gaussian(self.program(values))
            cov, means = base.cov, base.means
        else:  # SF's dense n-mode backend is slow for hundreds of modes; same numbers (tested)
            cov, means = self.reference_moments(values)
        return GaussianState(cov, means, classical=True)

    def typed_state(self, state_type, values=None) -> ChannelProbe:
        """The channel at ``values`` and the task's query set."""
        return ChannelProbe(self._channel(values), self.queries)
