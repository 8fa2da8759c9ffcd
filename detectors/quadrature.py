r"""Quadrature detection of probes sent through a random displacement channel.

Every strategy here (and the collective Bell strategy in :mod:`detectors.memory`) turns one
channel use into an unbiased noisy estimate of the displacement,

.. math:: \hat\alpha = \alpha + \xi, \qquad \xi \sim \mathcal N(0, C)

(complex n-vector; C is the 2n x 2n covariance of :math:`(\mathrm{Re}\,\xi, \mathrm{Im}\,\xi)`,
the same 2x2 block ``noise`` on every mode, modes independent). C and the gain that makes
:math:`E[\hat\alpha|\alpha]=\alpha` come from Strawberry Fields: the detector runs a one- or
two-mode SF program (probe, a test displacement, loss, beam splitter) on the gaussian
backend and reads the covariance and means of the measured quadratures; copies are then
sampled vectorised in numpy, never one ``Engine.run`` per copy.

The per-copy statistic is :math:`z_q = e^{\beta_q\cdot\hat\alpha^* - \beta_q^*\cdot\hat\alpha}
= e^{i w_q\cdot\hat a}` at every query (PHYSICS.md §1.3). Its mean is
:math:`\lambda(\beta_q)\,e^{-\frac12 w_q^T C w_q}`, so the unbiased estimator is

.. math:: \hat\lambda(\beta_q) = e^{\frac12 w_q^T C w_q}\,\frac1N\sum_{k=1}^N z_{q,k},
          \qquad \mathrm{Var}\,\hat\lambda = \frac{e^{w_q^T C w_q} - |\lambda(\beta_q)|^2}{N},

which for isotropic noise :math:`C = \frac\sigma2 I` is PHYSICS.md's
:math:`e^{\sigma|\beta|^2}` and :math:`(e^{2\sigma|\beta|^2}-|\lambda|^2)/N`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from detectors.base import Detector, DetectorSettings, OutcomeModel, Statistics
from sensing.gaussian import heterodyne_outcome
from sensing.registry import register_detector
from sensing.scenes.displacement import DisplacementDistribution, _psd_sqrt, query_vectors

#: Test displacement used to read the gain of the measurement off the SF means.
TEST_DISPLACEMENT = 0.25


def squeezing_parameter(squeezing_db: float) -> float:
    """:math:`r = \\mathrm{dB}\\,\\ln 10/20` (PHYSICS.md §0)."""
    return squeezing_db * np.log(10.0) / 20.0


class DisplacementEstimateModel(OutcomeModel):
    r"""Exact outcome model of the per-copy characteristic-function statistic.

    The statistic vector is ``(Re z_1..Re z_Q, Im z_1..Im z_Q)``; the reduced statistics are
    ``{'copies', 'char_sums_real' (Q,), 'char_sums_imag' (Q,)}``.

    Parameters
    ----------
    channel : DisplacementDistribution
    queries : ndarray, complex, shape (Q, n)
    noise : ndarray, shape (2, 2)
        Covariance of :math:`(\mathrm{Re}\,\xi_j, \mathrm{Im}\,\xi_j)` for one mode (from SF).
    """

    family = "characteristic_function"

    def __init__(self, channel: DisplacementDistribution, queries: np.ndarray, noise: np.ndarray):
        self.channel = channel
        self.queries = np.asarray(queries, dtype=complex)
        self.noise = np.asarray(noise, dtype=float)
        self.w = query_vectors(self.queries)  # (Q, 2n)
        n = self.queries.shape[1]
        wx, wp = self.w[:, :n], self.w[:, n:]
        c = self.noise
        # W C W^T with C = noise (x) I_n in xxpp layout, without forming the 2n x 2n matrix
        self.noise_gram = c[0, 0] * wx @ wx.T + c[1, 1] * wp @ wp.T + c[0, 1] * (wx @ wp.T + wp @ wx.T)
        self._noise_root = _psd_sqrt(self.noise_gram)
        self._phase_law = channel.phase_law(self.w)
        q = self.queries.shape[0]
        self.labels = [f"re_z{k}" for k in range(q)] + [f"im_z{k}" for k in range(q)]

    # -- estimator constants ----------------------------------------------------------------
    @property
    def noise_exponent(self) -> np.ndarray:
        r""":math:`w_q^T C w_q` per query (= :math:`2\sigma|\beta_q|^2` for isotropic noise)."""
        return np.diag(self.noise_gram).copy()

    @property
    def noise_per_mode(self) -> float:
        r""":math:`\sigma = E|\xi_j|^2` (1 for vacuum heterodyne, :math:`e^{-2r}` for ideal Bell)."""
        return float(np.trace(self.noise))

    def true_values(self) -> np.ndarray:
        """Exact :math:`\\lambda(\\beta_q)`, complex ``(Q,)``."""
        return self.channel.characteristic(self.w)

    def estimate(self, statistics: Statistics) -> np.ndarray:
        """Unbiased :math:`\\hat\\lambda(\\beta_q)` from reduced statistics (any leading dims), complex."""
        copies = np.asarray(statistics["copies"], dtype=float)[..., None]
        sums = np.asarray(statistics["char_sums_real"]) + 1j * np.asarray(statistics["char_sums_imag"])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.exp(0.5 * self.noise_exponent) * sums / copies

    def estimator_variance(self) -> np.ndarray:
        """Per-copy variance :math:`e^{w^TCw} - |\\lambda|^2` of the estimator (divide by N)."""
        return np.exp(self.noise_exponent) - np.abs(self.true_values()) ** 2

    # -- exact moments ------------------------------------------------------------------------
    def _pair_moments(self) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`E[z_a z_b]` and :math:`E[z_a z_b^*]`, each ``(Q, Q)`` complex."""
        w = self.w
        g = self.noise_gram
        d = np.diag(g)
        plus = self.channel.characteristic(w[:, None, :] + w[None, :, :]) * np.exp(-0.5 * (d[:, None] + d[None, :] + 2 * g))
        minus = self.channel.characteristic(w[:, None, :] - w[None, :, :]) * np.exp(-0.5 * (d[:, None] + d[None, :] - 2 * g))
        return plus, minus

    def mean(self) -> np.ndarray:
        z = self.true_values() * np.exp(-0.5 * self.noise_exponent)
        return np.concatenate([z.real, z.imag])

    def covariance(self) -> np.ndarray:
        plus, minus = self._pair_moments()
        rr = 0.5 * (plus + minus).real
        ii = 0.5 * (minus - plus).real
        ri = 0.5 * (plus - minus).imag  # E[Re z_a Im z_b]
        second = np.block([[rr, ri], [ri.T, ii]])
        m = self.mean()
        return second - np.outer(m, m)

    # -- sampling -----------------------------------------------------------------------------
    def sample_phases(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        r"""Exact draws of :math:`w_q\cdot\hat a = w_q\cdot a + w_q\cdot\xi`, shape ``(copies, Q)``.

        The statistic depends on :math:`\hat a` only through these Q numbers, whose joint law
        is exact: the channel part from :meth:`DisplacementDistribution.sample_phases`, the
        noise part :math:`\mathcal N(0, W C W^T)`. The cost per copy is O(Q), not O(n).
        """
        channel = self.channel.sample_phases(rng, self._phase_law, copies)
        return channel + rng.standard_normal((copies, self._noise_root.shape[1])) @ self._noise_root.T

    def sample_estimates(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Raw per-copy displacement estimates :math:`\\hat\\alpha`, complex ``(copies, n)`` (for checks against SF)."""
        alpha = self.channel.sample(rng, copies)
        root = _psd_sqrt(self.noise)
        xi = rng.standard_normal(alpha.shape + (2,)) @ root.T
        return alpha + xi[..., 0] + 1j * xi[..., 1]

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        phases = self.sample_phases(rng, copies)
        return np.concatenate([np.cos(phases), np.sin(phases)], axis=1)

    def reduce(self, outcomes: np.ndarray) -> Statistics:
        q = len(self.labels) // 2
        outcomes = np.asarray(outcomes, dtype=float).reshape(-1, 2 * q)
        totals = outcomes.sum(axis=0)
        return {"copies": np.int64(outcomes.shape[0]), "char_sums_real": totals[:q], "char_sums_imag": totals[q:]}

    def log_likelihood(self, statistics: Statistics) -> np.ndarray:
        raise NotImplementedError(
            "channel learning estimates lambda(beta) with the unbiased moment estimator of "
            "DisplacementEstimateModel.estimate; the statistics are not sufficient for a likelihood in p(alpha)"
        )


def noise_from_sf_state(cov_measured: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Noise covariance of :math:`\\hat\\alpha` from the measured-quadrature covariance and the gains."""
    scale = np.diag(1.0 / np.asarray(gain, dtype=float))
    return scale @ cov_measured @ scale


class ChannelDetector(Detector):
    """A strategy for learning a displacement channel: an SF-derived per-mode noise, then the exact model."""

    requires = frozenset({"displacement_channel"})

    def measured_moments(self, displacement: complex = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Means (2,) and covariance (2, 2) of the two measured quadratures for one mode displaced by ``displacement``."""
        raise NotImplementedError

    def gain_and_noise(self) -> tuple[np.ndarray, np.ndarray]:
        """Gains (2,) mapping (Re, Im) of the displacement to the measured means, and the alpha-unit noise."""
        m0, cov = self.measured_moments(0.0)
        mx, _ = self.measured_moments(TEST_DISPLACEMENT)
        mp, _ = self.measured_moments(1j * TEST_DISPLACEMENT)
        gain = np.array([(mx - m0)[0], (mp - m0)[1]]) / TEST_DISPLACEMENT
        if np.any(np.abs(gain) < 1e-12):
            raise ValueError(f"detector {self.name!r} receives no signal from the channel (zero transmission)")
        return gain, noise_from_sf_state(cov, gain)

    def noise(self) -> np.ndarray:
        """2x2 covariance of one mode's :math:`(\\mathrm{Re}\\,\\xi, \\mathrm{Im}\\,\\xi)` (from SF)."""
        return self.gain_and_noise()[1]

    def outcome_model(self, light) -> DisplacementEstimateModel:
        cache = self.__dict__.setdefault("_noise_cache", [])
        if not cache:
            cache.append(self.noise())
        return DisplacementEstimateModel(light.channel, light.queries, cache[0])


class HeterodyneSettings(DetectorSettings):
    """Config of ``kind: heterodyne``: a per-copy probe and heterodyne (double-homodyne) detection of every mode."""

    kind: Literal["heterodyne"] = "heterodyne"
    probe: Literal["vacuum", "coherent", "squeezed"] = Field("vacuum", description="state sent into each mode of the channel")
    probe_amplitude: float = Field(0.0, ge=0.0, le=100.0, description="coherent probe: |alpha_probe| (its known mean is subtracted)")
    squeezing_db: float = Field(0.0, ge=0.0, le=30.0, description="squeezed probe: single-mode squeezing in dB")
    squeezing_angle: float = Field(0.0, description="squeezed probe: SF Sgate phase (0 squeezes x)")


@register_detector("heterodyne")
class Heterodyne(ChannelDetector):
    r"""Per copy, no entanglement: a probe through the channel, then heterodyne (SF ``MeasureHD``).

    Outcome in quadrature units :math:`\Sigma = V' + I` with :math:`V'` the state after the
    detector loss (:func:`sensing.gaussian.heterodyne_outcome`). A vacuum (or coherent) probe
    with ideal detection gives :math:`\sigma = 1`: the conventional scheme. A squeezed probe
    makes the noise anisotropic (:math:`C = \frac14\mathrm{diag}(e^{-2r}+1, e^{2r}+1)` for
    ideal detection), which never lowers the worst-case query exponent. Per-copy schemes of
    this kind are exponential in n for queries of fixed per-mode size (Oh et al. 2024).
    """

    Settings = HeterodyneSettings

    @classmethod
    def example(cls):
        scene = {"kind": "displacement_channel", "modes": 2, "distribution": "mixture", "queries": 3, "query_amplitude": 0.6,
                 "components": [{"weight": 0.5, "displacement": [0.3, 0.1]}, {"weight": 0.3, "displacement": [-0.5, 0.4]},
                                {"weight": 0.2, "displacement": [0.0, -0.7]}]}
        return scene, {"kind": "heterodyne", "name": "heterodyne", "probe": "squeezed", "squeezing_db": 3.0, "efficiency": 0.9}

    def program(self, displacement: complex = 0.0):
        """One mode: probe, the channel's displacement, detector loss (then ``MeasureHD``)."""
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        ops = sf.ops
        s = self.settings
        prog = sf.Program(1)
        with prog.context as q:
            if s.probe == "coherent":
                ops.Coherent(s.probe_amplitude) | q[0]
            elif s.probe == "squeezed":
                ops.Squeezed(squeezing_parameter(s.squeezing_db), s.squeezing_angle) | q[0]
            if displacement != 0:
                ops.Dgate(abs(displacement), float(np.angle(displacement))) | q[0]
            ops.LossChannel(s.efficiency) | q[0]
        return prog

    def measured_moments(self, displacement=0.0):
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        state = sf.Engine("gaussian").run(self.program(displacement)).state
        return heterodyne_outcome(np.asarray(state.cov()), np.asarray(state.means()))  # loss already applied in SF
