r"""Quadrature detection of probes sent through a random displacement channel.

Every strategy here (and the collective Bell strategy in :mod:`sensing.detectors.memory`) turns one
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

from sensing.contracts.engine import run_gaussian
from sensing.contracts.states import ChannelProbe
from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics, chunk_size
from sensing.physics.gaussian import heterodyne_outcome
from sensing.physics.displacements import (DisplacementDistribution, GaussianDisplacements, MixtureDisplacements, psd_sqrt,
                                           query_vectors)

#: Test displacement used to read the gain of the measurement off the SF means.
TEST_DISPLACEMENT = 0.25
#: Phases (copies x queries) handled at once by the summing samplers: a few hundred kB per array,
#: so the normals, phases and their cosines stay in cache.
PHASE_BLOCK = 1 << 15


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
        self._noise_root = psd_sqrt(self.noise_gram)
        self._phase_law = channel.phase_law(self.w)
        # A Gaussian channel plus Gaussian noise is one Gaussian: Q normals per copy, not 2Q
        self._joint_law = None
        if isinstance(channel, GaussianDisplacements):
            centre, root = self._phase_law
            self._joint_law = (centre, psd_sqrt(root @ root.T + self.noise_gram))
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

    @property
    def selection_factor(self) -> np.ndarray:
        """:math:`E|z_q|^2` per query (1 here; :math:`2^{s_q}` for random-quadrature homodyne)."""
        return np.ones(self.queries.shape[0])

    def estimator_variance(self) -> np.ndarray:
        """Per-copy variance :math:`E|z|^2 e^{w^TCw} - |\\lambda|^2` of the estimator (divide by N)."""
        return self.selection_factor * np.exp(self.noise_exponent) - np.abs(self.true_values()) ** 2

    def bound_squared(self) -> np.ndarray:
        """Square of the bound on one copy's term of the estimator (``b^2`` of Hoeffding's inequality)."""
        return self.selection_factor**2 * np.exp(self.noise_exponent)

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
        noise part :math:`\mathcal N(0, W C W^T)`; for a Gaussian channel the two are one
        Gaussian, drawn at once (Q normals per copy). The cost per copy is O(Q), not O(n).
        """
        if self._joint_law is not None:  # channel and noise in one draw (the same exact law)
            centre, root = self._joint_law
            return centre + rng.standard_normal((copies, root.shape[1])) @ root.T
        channel = self.channel.sample_phases(rng, self._phase_law, copies)
        return channel + rng.standard_normal((copies, self._noise_root.shape[1])) @ self._noise_root.T

    def _phase_sums(self, rng: np.random.Generator, copies: int, mask: np.ndarray | None = None) -> np.ndarray:
        r""":math:`\sum_k e^{i w_q\cdot\hat a_k}` over ``copies`` fresh copies (complex ``(Q,)``), optionally
        only where ``mask`` (query-major, ``(Q, copies)``, 0/1 floats) is 1.

        Draws exactly what :meth:`sample_phases` draws, in the same order (a Gaussian channel: the
        joint normals; a mixture: the component uniforms of ``rng.choice``, then the noise normals),
        so the sums equal those of :meth:`sample_terms` up to rounding; but in blocks of
        :data:`PHASE_BLOCK` phases laid out query-major in reused buffers, never a copies x
        queries array. Cosine and sine come from one tangent of the half phase,
        :math:`\cos\varphi = 2r - 1`, :math:`\sin\varphi = 2tr`, :math:`t = \tan(\varphi/2)`,
        :math:`r = 1/(1+t^2)` (vectorised in numpy, where ``cos`` and ``sin`` are not; the same
        values to a few units of 1e-16)."""
        q = self.queries.shape[0]
        block = max(1, PHASE_BLOCK // q)
        re, im = np.zeros(q), np.zeros(q)
        if self._joint_law is not None:
            centre, root = self._joint_law
            channel, noise = None, root
        elif isinstance(self.channel, MixtureDisplacements):
            weights = np.asarray(self.channel.weights, dtype=float)
            cdf = weights.cumsum()
            cdf /= cdf[-1]
            component = cdf.searchsorted(rng.random(copies), side="right")  # what rng.choice(p=weights) draws
            channel, noise, centre = None, self._noise_root, None
        else:
            channel, noise, centre = self.channel.sample_phases(rng, self._phase_law, copies), self._noise_root, None
        half_noise = 0.5 * noise  # half phases (scaling by 1/2 is exact)
        half_law = 0.5 * self._phase_law if channel is None and centre is None else None
        buffers = None
        for start in range(0, copies, block):
            stop = min(copies, start + block)
            m = stop - start
            if m == block:  # full blocks reuse their buffers (no page faults from fresh large arrays)
                if buffers is None:
                    buffers = (np.empty((block, noise.shape[1])), np.empty((q, block)), np.empty((q, block)))
                z, t, r = buffers
                rng.standard_normal(out=z)
                np.matmul(half_noise, z.T, out=t)
            else:
                z = rng.standard_normal((m, noise.shape[1]))
                t = half_noise @ z.T
                r = np.empty_like(t)
            if centre is not None:
                t += 0.5 * centre[:, None]
            elif channel is None:
                t += half_law[:, component[start:stop]]
            else:
                t += 0.5 * channel[start:stop].T
            np.tan(t, out=t)
            np.multiply(t, t, out=r)
            r += 1.0
            np.reciprocal(r, out=r)  # r = cos^2(phase/2)
            t *= r  # t r = sin(phase)/2
            if mask is not None:
                keep = mask[:, start:stop]  # 0/1 floats
                r *= keep
                t *= keep
                kept = keep.sum(axis=1)
            else:
                kept = m
            re += 2.0 * r.sum(axis=1) - kept
            im += 2.0 * t.sum(axis=1)
        return re + 1j * im

    def _phase_draws(self) -> float:
        """Random numbers :meth:`sample_phases` draws per copy."""
        if self._joint_law is not None:
            return float(self._joint_law[1].shape[1])
        extra = 1 if isinstance(self.channel, MixtureDisplacements) else 2 * self.channel.modes
        return float(extra + self._noise_root.shape[1])

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """The summed statistic of ``copies`` copies, drawn as :meth:`sample` draws them (the same
        random numbers in the same order: equal to ``reduce(sample())`` up to rounding) but summed
        in cache-sized blocks (:meth:`_phase_sums`) instead of forming copies x 2Q outcomes."""
        q = self.queries.shape[0]
        total = np.zeros(q, dtype=complex)
        chunk = chunk_size(len(self.labels))
        for start in range(0, copies, chunk):
            total += self._chunk_sums(rng, min(chunk, copies - start))
        return {"copies": np.int64(copies), "char_sums_real": total.real.copy(), "char_sums_imag": total.imag.copy()}

    def _chunk_sums(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        return self._phase_sums(rng, copies)

    def draws_per_copy(self) -> float:
        """What :meth:`sample_statistics` draws per copy: Q normals for a Gaussian channel (channel
        and noise in one draw), one uniform plus the noise normals for a mixture."""
        return self._phase_draws()

    def sample_estimates(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Raw per-copy displacement estimates :math:`\\hat\\alpha`, complex ``(copies, n)`` (for checks against SF)."""
        alpha = self.channel.sample(rng, copies)
        root = psd_sqrt(self.noise)
        xi = rng.standard_normal(alpha.shape + (2,)) @ root.T
        return alpha + xi[..., 0] + 1j * xi[..., 1]

    def sample_terms(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Per-copy statistic :math:`z_q`, complex ``(copies, Q)``."""
        return np.exp(1j * self.sample_phases(rng, copies))

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

    accepts = ChannelProbe
    capabilities = frozenset({"channel_estimate"})

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


ProbeKind = Literal["vacuum", "coherent", "squeezed"]


class ProbeSettings(DetectorSettings):
    """Fields of the per-copy probe every quadrature strategy sends into each mode of the channel."""

    probe: ProbeKind = Field("vacuum", description="state sent into each mode of the channel")
    probe_amplitude: float = Field(0.0, ge=0.0, le=100.0, description="coherent probe: |alpha_probe| (its known mean is subtracted)")
    squeezing_db: float = Field(0.0, ge=0.0, le=30.0, description="squeezed probe: single-mode squeezing in dB")


class HeterodyneSettings(ProbeSettings):
    """Config of ``kind: heterodyne``: a per-copy probe and heterodyne (double-homodyne) detection of every mode."""

    kind: Literal["heterodyne"] = "heterodyne"
    squeezing_angle: float = Field(0.0, description="squeezed probe: SF Sgate phase (0 squeezes x)")


def probe_program(settings, squeezing_angle: float, displacement: complex = 0.0):
    """One-mode SF program shared by the per-copy strategies: the probe (vacuum, coherent, or
    squeezed at ``squeezing_angle``), one draw of the channel's displacement, detector loss."""
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    ops = sf.ops
    prog = sf.Program(1)
    with prog.context as q:
        if settings.probe == "coherent":
            ops.Coherent(settings.probe_amplitude) | q[0]
        elif settings.probe == "squeezed":
            ops.Squeezed(squeezing_parameter(settings.squeezing_db), squeezing_angle) | q[0]
        if displacement != 0:
            ops.Dgate(abs(displacement), float(np.angle(displacement))) | q[0]
        ops.LossChannel(settings.efficiency) | q[0]
    return prog

class Heterodyne(ChannelDetector):
    r"""Per copy, no entanglement: a probe through the channel, then heterodyne (SF ``MeasureHD``).

    Outcome in quadrature units :math:`\Sigma = V' + I` with :math:`V'` the state after the
    detector loss (:func:`sensing.physics.gaussian.heterodyne_outcome`). A vacuum (or coherent) probe
    with ideal detection gives :math:`\sigma = 1`: the conventional scheme. A squeezed probe
    makes the noise anisotropic (:math:`C = \frac14\mathrm{diag}(e^{-2r}+1, e^{2r}+1)` for
    ideal detection), which never lowers the worst-case query exponent. Per-copy schemes of
    this kind are exponential in n for queries of fixed per-mode size (Oh et al. 2024).
    """

    kind = "heterodyne"

    Settings = HeterodyneSettings

    @classmethod
    def example(cls):
        scene = {"kind": "displacement_channel", "modes": 2, "distribution": "mixture", "queries": 3, "query_amplitude": 0.6,
                 "components": [{"weight": 0.5, "displacement": [0.3, 0.1]}, {"weight": 0.3, "displacement": [-0.5, 0.4]},
                                {"weight": 0.2, "displacement": [0.0, -0.7]}]}
        return scene, {"kind": "heterodyne", "name": "heterodyne", "probe": "squeezed", "squeezing_db": 3.0, "efficiency": 0.9}

    def program(self, displacement: complex = 0.0):
        """One mode: probe, the channel's displacement, detector loss (then ``MeasureHD``)."""
        return probe_program(self.settings, self.settings.squeezing_angle, displacement)

    def measured_moments(self, displacement=0.0):
        state = run_gaussian(self.program(displacement))
        return heterodyne_outcome(state.cov, state.means)  # loss already applied in SF


# ---------------------------------------------------------------------------------------------
# Random-quadrature homodyne (per copy, no entanglement)
# ---------------------------------------------------------------------------------------------
#: Pattern codes of a query per mode: nothing needed, x needed, p needed, not answerable.
NONE, NEED_X, NEED_P, UNSUPPORTED = 0, 1, 2, -1


def quadrature_patterns(queries: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
    r"""Which quadrature each query needs on each mode, int ``(Q, n)``.

    :math:`w\cdot a = 2\sum_j(\mathrm{Im}\beta_j\,\mathrm{Re}\alpha_j - \mathrm{Re}\beta_j\,\mathrm{Im}\alpha_j)`:
    an imaginary :math:`\beta_j` needs x (:math:`\mathrm{Re}\,\alpha_j`), a real one needs p, zero
    needs nothing, and a generic complex :math:`\beta_j` needs both (not answerable by one
    homodyne per mode).
    """
    queries = np.asarray(queries, dtype=complex)
    scale = tolerance * max(np.abs(queries).max(), 1e-300)
    has_re, has_im = np.abs(queries.real) > scale, np.abs(queries.imag) > scale
    out = np.full(queries.shape, NONE, dtype=np.int8)
    out[has_im & ~has_re] = NEED_X
    out[has_re & ~has_im] = NEED_P
    out[has_re & has_im] = UNSUPPORTED
    return out


class RandomHomodyneModel(DisplacementEstimateModel):
    r"""Outcome model of homodyne detection of a uniformly random quadrature (x or p) per mode.

    Query q needs a fixed quadrature on the :math:`s_q` modes where :math:`\beta_{q,j}\neq0`; a
    copy whose random choices match (probability :math:`2^{-s_q}`) contributes
    :math:`z_q = 2^{s_q}e^{i w_q\cdot\hat a}`, the others 0. Then
    :math:`E[z_q] = \lambda(\beta_q)e^{-\frac12 w_q^TCw_q}` (unbiased after the same correction),
    :math:`E|z_q|^2 = 2^{s_q}`, and the pair moments carry
    :math:`F_{ab} = 2^{|S_a\cap S_b|}` when the two patterns agree (0 when they conflict). The
    variance :math:`2^{s_q}e^{w^TCw}` is exponential in n even for infinitely squeezed probes: the
    random Pauli-measurement analogue of Chen et al., PRL 132, 180805 (2024).
    Queries with a generic complex component are not answerable: their statistic is 0 and
    their estimate NaN.
    """

    def __init__(self, channel, queries, noise):
        super().__init__(channel, queries, noise)
        self.patterns = quadrature_patterns(self.queries)
        self.supported = ~np.any(self.patterns == UNSUPPORTED, axis=1)
        needed = (self.patterns != NONE) & self.supported[:, None]
        self.support_size = needed.sum(axis=1)
        p = self.patterns
        conflict = np.any((p[:, None, :] > 0) & (p[None, :, :] > 0) & (p[:, None, :] != p[None, :, :]), axis=-1)
        shared = ((p[:, None, :] > 0) & (p[None, :, :] > 0)).sum(axis=-1)
        both = self.supported[:, None] & self.supported[None, :]
        self.pair_factor = np.where(both & ~conflict, 2.0 ** shared, 0.0)
        # bit-packed patterns: bit j of word w is mode 64 w + j; mask = needed, value = p needed
        modes = self.patterns.shape[1]
        words = (modes + 63) // 64
        weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
        padded = np.zeros((self.patterns.shape[0], words * 64), dtype=np.int8)
        padded[:, :modes] = np.where(self.supported[:, None], self.patterns, NONE)
        blocks = padded.reshape(-1, words, 64)
        self._mask = ((blocks > 0).astype(np.uint64) * weights).sum(axis=-1, dtype=np.uint64)  # (Q, words)
        self._value = ((blocks == NEED_P).astype(np.uint64) * weights).sum(axis=-1, dtype=np.uint64)

    @property
    def selection_factor(self):
        return np.where(self.supported, 2.0 ** self.support_size, np.inf)

    def true_values(self):
        return np.where(self.supported, super().true_values(), np.nan)

    def estimator_variance(self):
        with np.errstate(invalid="ignore"):
            return np.where(self.supported, super().estimator_variance(), np.inf)

    def estimate(self, statistics):
        return np.where(self.supported, super().estimate(statistics), np.nan)

    def mean(self):
        z = np.where(self.supported, super().true_values(), 0.0) * np.exp(-0.5 * self.noise_exponent)
        return np.concatenate([z.real, z.imag])

    def _pair_moments(self):
        plus, minus = super()._pair_moments()
        return plus * self.pair_factor, minus * self.pair_factor

    def sample_terms(self, rng, copies):
        q = self.queries.shape[0]
        out = np.zeros((copies, q), dtype=complex)
        words = self._mask.shape[1]
        chunk = max(1, (1 << 22) // (q * words))
        for start in range(0, copies, chunk):
            m = min(chunk, copies - start)
            # one uniform random bit per mode (1: p measured, 0: x), 64 modes per word
            choice = rng.integers(0, np.iinfo(np.uint64).max, size=(m, words), dtype=np.uint64, endpoint=True)
            match = np.all(((choice[:, None, :] ^ self._value[None]) & self._mask[None]) == 0, axis=-1) & self.supported
            hit = np.flatnonzero(match.any(axis=1))
            if hit.size:
                phases = self.sample_phases(rng, hit.size)
                out[start + hit] = np.where(match[hit], 2.0 ** self.support_size * np.exp(1j * phases), 0.0)
        return out

    def sample(self, rng, copies):
        z = self.sample_terms(rng, copies)
        return np.concatenate([z.real, z.imag], axis=1)

    def _chunk_sums(self, rng, copies):
        """Sums of :meth:`sample_terms` over ``copies`` copies, drawing the same numbers in the same
        order (the choice bits block by block, then the phases of the copies that hit a query)."""
        q = self.queries.shape[0]
        total = np.zeros(q, dtype=complex)
        words = self._mask.shape[1]
        chunk = max(1, (1 << 22) // (q * words))
        for start in range(0, copies, chunk):
            m = min(chunk, copies - start)
            choice = rng.integers(0, np.iinfo(np.uint64).max, size=(m, words), dtype=np.uint64, endpoint=True)
            block = max(1, PHASE_BLOCK // (q * words))
            hits = []  # query-major matches (Q, copies) of the copies that hit a query, in copy order
            for b in range(0, m, block):
                part = choice[b:b + block]
                match = np.ones((q, len(part)), dtype=bool)
                for w in range(words):
                    match &= ((part[None, :, w] ^ self._value[:, w, None]) & self._mask[:, w, None]) == 0
                match &= self.supported[:, None]
                hits.append(np.compress(np.logical_or.reduce(match, axis=0), match.view(np.uint8), axis=1))
            match = np.concatenate(hits, axis=1).astype(float) if hits else np.zeros((q, 0))  # 0/1, query-major
            if match.shape[1]:
                total += self._phase_sums(rng, match.shape[1], match)
        return np.where(self.supported, 2.0 ** self.support_size, 0.0) * total

    def hit_probability(self) -> float:
        """Probability that a copy's random quadratures match at least one supported query: exact
        (all choices enumerated) up to 16 modes, else the Bonferroni lower bound
        :math:`\sum_a p_a - \sum_{a<b} p_{ab}` (at least :math:`\max_a p_a`)."""
        p = self.patterns
        modes = p.shape[1]
        rows = p[self.supported]
        if rows.size == 0:
            return 0.0
        if modes <= 16:
            bits = (np.arange(2**modes)[:, None] >> np.arange(modes)) & 1  # 1: p measured
            need = np.where(rows == NEED_P, 1, 0)
            ok = (rows[None] == NONE) | (bits[:, None, :] == need[None])
            return float(np.all(ok, axis=-1).any(axis=1).mean())
        single = 2.0 ** -self.support_size[self.supported]
        union = np.where(self.pair_factor > 0, 2.0 ** -(self.support_size[:, None] + self.support_size[None, :])
                         * np.where(self.pair_factor > 0, self.pair_factor, 1.0), 0.0)[np.ix_(self.supported, self.supported)]
        pairs = (union.sum() - np.trace(union)) / 2
        return float(min(1.0, max(single.max(), single.sum() - pairs)))

    def draws_per_copy(self) -> float:
        """One 64-bit word of quadrature choices per 64 modes, and the phase draws of the copies
        that hit a query (:meth:`hit_probability`)."""
        return float(self._mask.shape[1]) + self.hit_probability() * self._phase_draws()


class HomodyneSettings(ProbeSettings):
    """Config of ``kind: homodyne``: per copy, homodyne of a random quadrature (x or p) of every mode."""

    kind: Literal["homodyne"] = "homodyne"
    probe: ProbeKind = Field("squeezed", description="state sent into each mode of the channel")
    squeezing_db: float = Field(10.0, ge=0.0, le=30.0, description="squeezed probe: squeezing in dB along the quadrature measured")


class Homodyne(ChannelDetector):
    r"""Per copy, no entanglement: each mode's probe squeezed along a random quadrature (x or p), which is then measured.

    The measured quadrature's noise comes from SF (probe, displacement, detector loss, homodyne
    variance); an x-squeezed probe with x measured gives :math:`v = e^{-2r}/(4\eta)+(1-\eta)/(4\eta)`
    per component in :math:`\alpha` units. Only queries whose components are real or
    imaginary (``query_region: axes``) can be answered (:class:`RandomHomodyneModel`).
    """

    kind = "homodyne"

    Settings = HomodyneSettings

    @classmethod
    def example(cls):
        scene = {"kind": "displacement_channel", "modes": 2, "distribution": "gaussian", "variance": 0.2, "queries": 4,
                 "query_amplitude": 0.5, "query_region": "axes"}
        return scene, {"kind": "homodyne", "name": "homodyne", "squeezing_db": 6.0, "efficiency": 0.9}

    def program(self, quadrature: str, displacement: complex = 0.0):
        """One mode: probe squeezed along ``quadrature`` ('x' or 'p'), displacement, detector loss (then MeasureX/MeasureP)."""
        return probe_program(self.settings, 0.0 if quadrature == "x" else np.pi, displacement)

    def measured_moments(self, displacement=0.0):
        """x from the x-squeezed run and p from the p-squeezed run (never measured together: zero covariance)."""
        from sensing.physics.gaussian import homodyne_outcome

        means, variances = [], []
        for k, quadrature in enumerate(("x", "p")):
            state = run_gaussian(self.program(quadrature, displacement))
            m, c = homodyne_outcome(state.cov, state.means, [k])
            means.append(m[0])
            variances.append(c[0, 0])
        return np.array(means), np.diag(variances)

    def outcome_model(self, light) -> RandomHomodyneModel:
        cache = self.__dict__.setdefault("_noise_cache", [])
        if not cache:
            cache.append(self.noise())
        return RandomHomodyneModel(light.channel, light.queries, cache[0])
