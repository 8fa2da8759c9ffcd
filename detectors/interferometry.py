r"""Long-baseline interferometry schemes for telescope arrays (PHYSICS.md §3; docs/interferometry.md).

Four detectors act on the light of two apertures of an ``array`` scene
(:class:`~sensing.contracts.states.ApertureLight`, :math:`N_{ij} = \bar n g_{ij}`):

``intensity``
    Local photon counting at each site, correlated afterwards (Hanbury Brown-Twiss). Each
    detector time bin integrates ``modes_per_bin`` temporal modes (timing jitter x bandwidth).
``direct``
    The light of both sites is carried to a combiner at the midpoint of the baseline through a
    lossy link (fibre at 0.2 dB/km by default, or a free-space relay), interfered on a 50:50
    beam splitter after a delay :math:`\delta`, and counted.
``entanglement_assisted``
    Gottesman-Jennewein-Croke (GJC): a distributed single-photon entangled state
    :math:`(|10\rangle + e^{i\delta}|01\rangle)/\sqrt2` per temporal mode from a repeater network
    meets the starlight on a local 50:50 beam splitter at each site; photon counting with
    (optionally) coincidence post-selection.
``memory_array``
    Khabiboulline-Borregaard-De Greve-Lukin (KBDL): each site stores the arriving photon and
    its time-bin index in a quantum memory (:class:`~sensing.detectors.memory.QuantumMemory`);
    nonlocal parity checks with shared Bell pairs read out the which-site phase.

Every scheme records, per copy, one **pattern** of photon counts (and the delay setting it
used, drawn uniformly from ``delays`` per copy); the sufficient statistic of i.i.d. copies is
the histogram of patterns (multinomial), and the exact model gives every pattern's
probability (and its derivatives in :math:`(|g|, \varphi)`). Count patterns outside the box
``cutoff`` per port are lumped into one ``overflow`` outcome, so the model stays exact.

Thermal-light samplers (intensity, direct, memory_array) use the Glauber-Sudarshan P function:
per copy (bin) a complex Wishart matrix of the K modes' amplitudes (Bartlett, vectorised),
Poisson counts given the intensities, Poisson dark counts, threshold clipping. The GJC
sampler draws patterns from the exact Fock-space table (thewalrus), checked against SF's Fock
backend in the tests.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.signal
import scipy.stats
from pydantic import Field, field_validator

from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics
from sensing.contracts.states import ApertureLight
from sensing.contracts.units import Angle, Duration, Frequency, Length
from sensing.detectors.memory import QuantumMemory
from sensing.physics.interferometry import (
    direct_fisher_information_leading_order,
    fiber_transmission,
    gjc_ebits_per_copy,
    gjc_fisher_information_leading_order,
    gjc_outcome_probabilities,
    intensity_fisher_information_leading_order,
    kbdl_ebits_per_copy,
    kbdl_fisher_information,
    two_mode_count_distribution,
)

PixelType = Literal["number_resolving", "threshold"]
#: The array scene of the contract examples (a resolved binary on a 40 m baseline, bright enough
#: that a few thousand copies show the fringes).
EXAMPLE_SCENE = {"kind": "array", "model": "binary", "baseline": "40 m", "wavelength": "1550 nm", "bandwidth": "10 nm",
                 "separation": "3 mas", "position_angle": "70 deg", "flux_ratio": 0.4, "photons_per_copy": 0.1}
#: Largest count box per port of a thermal scheme (the rest is the ``overflow`` outcome).
MAX_CUTOFF = 12
#: Probability a box may leave to ``overflow`` when the cutoff is chosen automatically.
TAIL = 1e-10


# --------------------------------------------------------------------------------------
# pattern outcome model
# --------------------------------------------------------------------------------------


class PatternModel(OutcomeModel):
    r"""Outcome model of a scheme whose copies each give one count pattern.

    The per-copy statistic (``labels``) is the photon count of every port under every delay
    setting (zero for the delays a copy did not use): its exact mean and covariance are
    :meth:`mean` and :meth:`covariance`. Its sufficient statistic over i.i.d. copies is the
    **histogram of patterns** (:meth:`reduce`): ``pattern_probabilities[..., 0]`` is the implicit
    outcome (nothing detected, or rejected by a post-selection), ``totals`` count the others,
    so the totals of c copies are multinomial and

    .. math:: \ell = \sum_k T_k\log p_k + (c - \textstyle\sum_k T_k)\log p_0,\qquad
              J = \sum_{k\ge0}\frac{\partial p_k\,\partial p_k^T}{p_k}

    (:meth:`visibility_fisher`, exact, in :math:`(|g|, \varphi)`).

    Attributes
    ----------
    pattern_probabilities : ndarray, shape (..., K)
    visibility_derivatives : ndarray, shape (2, K) or None
        Exact :math:`\partial p/\partial(|g|, \varphi)` at an unbatched point.
    temporal_modes_per_copy : int
        Temporal modes one recorded copy spans (intensity: modes per time bin; else 1).
    """

    family = "counts"

    def __init__(self, pattern_probabilities, visibility_derivatives, labels, port_mean, port_second_moment,
                 draw_rows, pattern_index, temporal_modes_per_copy=1, **info):
        self.pattern_probabilities = np.asarray(pattern_probabilities, dtype=float)
        self.visibility_derivatives = visibility_derivatives
        self.labels = list(labels)
        self._mean = np.asarray(port_mean, dtype=float)
        self._second = port_second_moment
        self._draw_rows = draw_rows
        self.pattern_index = pattern_index
        self.temporal_modes_per_copy = int(temporal_modes_per_copy)
        self.info = info

    @property
    def pattern_count(self) -> int:
        return self.pattern_probabilities.shape[-1]

    def mean(self) -> np.ndarray:
        return self._mean

    def covariance(self) -> np.ndarray:
        if self._mean.ndim != 1:
            raise ValueError("covariances need one parameter point, not a batch")
        return self._second - np.outer(self._mean, self._mean)

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        return self._draw_rows(rng, copies)

    def reduce(self, outcomes: np.ndarray) -> Statistics:
        index = self.pattern_index(np.asarray(outcomes))
        histogram = np.bincount(index, minlength=self.pattern_count).astype(np.int64)
        return {"copies": np.int64(outcomes.shape[0]), "totals": histogram[1:]}

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Exact multinomial pattern histogram of ``copies`` copies (cost independent of ``copies``)."""
        p = np.clip(self.pattern_probabilities, 0.0, None)
        counts = rng.multinomial(copies, p / p.sum())
        return {"copies": np.int64(copies), "totals": counts[1:].astype(np.int64)}

    def log_likelihood(self, statistics: Statistics, paired: bool = False) -> np.ndarray:
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        rest = copies - totals.sum(axis=-1)
        with np.errstate(divide="ignore"):
            logp = np.log(np.clip(self.pattern_probabilities, 0.0, None))
        full = np.concatenate([rest[:, None], totals], axis=-1)  # (R, K)
        if paired:
            return np.where(full > 0, full * logp, 0.0).sum(-1)
        logp = np.atleast_2d(logp)  # (G, K)
        return np.where(full[None] > 0, full[None] * logp[:, None, :], 0.0).sum(-1)

    def visibility_fisher(self) -> np.ndarray:
        """Exact Fisher matrix per copy in :math:`(|g|, \varphi)` of the pattern record."""
        return pattern_fisher(self.pattern_probabilities, self.visibility_derivatives)


def _moments(tables: np.ndarray):
    """Port means and second moments of a mixture over delays.

    ``tables`` (L, c, ..., c): P(delay, counts) already divided by L. Rows hold the counts of
    the delay used, so E[x x^T] is block diagonal over delays.
    """
    delays, ports = tables.shape[0], tables.ndim - 1
    grids = np.indices(tables.shape[1:])  # (ports, c, ..., c)
    flat_t = tables.reshape(delays, -1).astype(float)
    flat_g = grids.reshape(ports, -1).astype(float)
    mean = flat_t @ flat_g.T  # (L, ports)
    second = np.einsum("dk,pk,qk->dpq", flat_t, flat_g, flat_g)
    n = delays * ports
    full = np.zeros((n, n))
    for d in range(delays):
        full[d * ports:(d + 1) * ports, d * ports:(d + 1) * ports] = second[d]
    return mean.reshape(n), full


def _rows(delay, counts, delays):
    """Per-copy rows: the counts placed in the block of the delay used."""
    copies, ports = counts.shape
    rows = np.zeros((copies, delays * ports), dtype=np.int64)
    cols = delay[:, None] * ports + np.arange(ports)[None, :]
    rows[np.arange(copies)[:, None], cols] = counts
    return rows


def _delay_counts(rows, delays):
    """Inverse of :func:`_rows`: (delay, counts); all-zero rows get delay 0."""
    rows = np.asarray(rows)
    ports = rows.shape[1] // delays
    blocks = rows.reshape(len(rows), delays, ports)
    delay = np.argmax(blocks.sum(axis=-1) > 0, axis=1)
    return delay, blocks[np.arange(len(rows)), delay]


def pattern_fisher(probabilities, derivatives) -> np.ndarray:
    r""":math:`J = \sum_k \partial p_k\partial p_k^T/p_k` over outcomes with :math:`p_k > 0`."""
    p = np.asarray(probabilities, dtype=float)
    d = np.asarray(derivatives, dtype=float)
    keep = p > 0
    return (d[:, keep] / p[keep]) @ d[:, keep].T


# --------------------------------------------------------------------------------------
# count tables
# --------------------------------------------------------------------------------------


def auto_cutoff(port_mean: float, modes: int = 1) -> int:
    """Box size per port whose thermal tail (geometric bound) is below :data:`TAIL`, in [3, MAX_CUTOFF]."""
    mu = max(float(port_mean), 1e-300)
    ratio = mu / (1.0 + mu)
    needed = math.ceil(math.log(TAIL) / math.log(ratio)) + 1 if ratio < 1 else MAX_CUTOFF
    return int(min(MAX_CUTOFF, max(3, needed)))


def _poisson_matrix(mean: float, cutoff: int) -> np.ndarray:
    """Lower-triangular Toeplitz T[n, i] = Poisson(n - i; mean): adding dark counts to a port."""
    column = scipy.stats.poisson.pmf(np.arange(cutoff), mean) if mean > 0 else np.eye(cutoff)[0]
    out = np.zeros((cutoff, cutoff))
    for i in range(cutoff):
        out[i:, i] = column[: cutoff - i]
    return out


def add_dark_counts(table: np.ndarray, dark: float) -> np.ndarray:
    """Convolve every port axis of a count table (axes after the first: derivatives stacked first) with Poisson(dark)."""
    if dark <= 0:
        return table
    ports = table.ndim - 1
    t = _poisson_matrix(dark, table.shape[-1])
    for axis in range(1, ports + 1):
        table = np.moveaxis(np.tensordot(table, t, axes=([axis], [1])), -1, axis)
    return table


def _convolve_box(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = a.shape[-1]
    return scipy.signal.convolve(a, b, method="direct")[:c, :c]


def thermal_table(correlation, correlation_derivatives, cutoff, modes=1):
    r"""Exact count table of two detected thermal modes, summed over ``modes`` i.i.d. temporal modes.

    :func:`~sensing.physics.interferometry.two_mode_count_distribution` for one mode; the sum of
    K modes is the K-fold convolution (repeated squaring, exact inside the box).

    Returns
    -------
    ndarray, shape (1 + k, cutoff, cutoff)
        Probabilities, then their derivatives.
    """
    dist = two_mode_count_distribution(correlation, cutoff, correlation_derivatives)
    base = np.concatenate([dist.probabilities[None], dist.derivatives])
    if modes == 1:
        return base

    def product(x, y):
        out = [_convolve_box(x[0], y[0])]
        for k in range(1, len(x)):
            out.append(_convolve_box(x[k], y[0]) + _convolve_box(x[0], y[k]))
        return np.stack(out)

    result, power, k = None, base, int(modes)
    while k:
        if k & 1:
            result = power if result is None else product(result, power)
        k >>= 1
        if k:
            power = product(power, power)
    return result


def threshold_table(correlation, correlation_derivatives, dark, modes=1):
    r"""Exact click table (2 x 2) of two thermal modes over ``modes`` temporal modes with dark counts.

    :math:`P(0,0) = e^{-d_0-d_1}\det(I+N)^{-K}`, :math:`P(0,\cdot) = e^{-d_0}(1+N_{00})^{-K}`,
    and the rest by inclusion-exclusion; derivatives analytic.
    """
    n = np.asarray(correlation, dtype=complex)
    dn = np.asarray(correlation_derivatives, dtype=complex)
    a, b, c = n[0, 0].real, n[1, 1].real, n[0, 1]
    det = (1 + a) * (1 + b) - abs(c) ** 2
    ddet = dn[:, 0, 0].real * (1 + b) + (1 + a) * dn[:, 1, 1].real - 2 * np.real(np.conj(c) * dn[:, 0, 1])
    k = float(modes)
    d0 = d1 = float(dark)
    p00 = np.exp(-d0 - d1) * det**-k
    dp00 = -k * p00 * ddet / det
    q0 = np.exp(-d0) * (1 + a) ** -k  # P(no click at port 0)
    dq0 = -k * q0 * dn[:, 0, 0].real / (1 + a)
    q1 = np.exp(-d1) * (1 + b) ** -k
    dq1 = -k * q1 * dn[:, 1, 1].real / (1 + b)
    table = np.zeros((1 + len(dn), 2, 2))
    table[0] = [[p00, q0 - p00], [q1 - p00, 1 - q0 - q1 + p00]]
    for i in range(len(dn)):
        table[1 + i] = [[dp00[i], dq0[i] - dp00[i]], [dq1[i] - dp00[i], -dq0[i] - dq1[i] + dp00[i]]]
    return table


def pair_derivatives(pair: np.ndarray) -> np.ndarray:
    r""":math:`\partial N/\partial|g|` and :math:`\partial N/\partial\varphi` of a 2 x 2 correlation,
    :math:`N_{01} = \sqrt{N_{00}N_{11}}\,g`."""
    scale = np.sqrt(pair[0, 0].real * pair[1, 1].real)
    g = pair[0, 1] / scale if scale > 0 else 0.0
    unit = g / abs(g) if abs(g) > 0 else 1.0
    d_modulus = scale * np.array([[0.0, unit], [np.conj(unit), 0.0]])
    d_phase = np.array([[0.0, 1j * pair[0, 1]], [np.conj(1j * pair[0, 1]), 0.0]])
    return np.stack([d_modulus, d_phase])


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------


class InterferometrySettings(DetectorSettings):
    """Fields shared by the interferometry schemes."""

    apertures: tuple[int, int] = Field((0, 1), description="the two apertures (indices in the scene) this scheme combines")
    pixel_type: PixelType = Field("number_resolving", description="number-resolving or threshold (click) detectors")
    dark_counts: float = Field(0.0, ge=0.0, le=1.0, description="mean dark counts per detector per copy (time bin)")
    cutoff: int | None = Field(None, ge=2, le=MAX_CUTOFF, description="counts per port kept in the pattern box (auto if omitted)")

    @field_validator("apertures")
    @classmethod
    def _distinct(cls, value):
        if value[0] == value[1] or min(value) < 0:
            raise ValueError(f"two different aperture indices are needed, got {list(value)}")
        return value


class DelaySettings(InterferometrySettings):
    delays: list[Angle] = Field(
        [0.0, math.pi / 2], min_length=1, max_length=8,
        description="delay phases; each copy uses one, drawn uniformly (two in quadrature measure |g| and phi)",
    )
    delay_reference: Literal["tracked", "fixed"] = Field(
        "tracked", description="tracked: delays relative to the fringe phase at the true source (a fringe tracker); fixed: absolute"
    )


class IntensitySettings(InterferometrySettings):
    """Config of ``kind: intensity`` (Hanbury Brown-Twiss)."""

    kind: Literal["intensity"] = "intensity"
    modes_per_bin: int | None = Field(None, ge=1, le=100_000, description="temporal modes per detector time bin")
    timing_jitter: Duration | None = Field(
        None, gt=0.0, description="detector time bin (timing jitter); modes_per_bin = jitter x bandwidth (needs the scene's bandwidth)"
    )


class DirectSettings(DelaySettings):
    """Config of ``kind: direct``: beam combination at the midpoint of the baseline."""

    kind: Literal["direct"] = "direct"
    link: Literal["fiber", "free_space"] = Field("fiber", description="how the light reaches the combiner")
    loss_db_per_km: float | None = Field(
        None, ge=0.0, le=1e3, description="link loss (default 0.2 dB/km for fibre, 0 for free space)"
    )
    relay_diameter: Length | None = Field(None, gt=0.0, description="free space: diameter of the relay optics (default: the aperture)")


class EntanglementAssistedSettings(DelaySettings):
    """Config of ``kind: entanglement_assisted`` (GJC)."""

    kind: Literal["entanglement_assisted"] = "entanglement_assisted"
    resource_efficiency: float = Field(1.0, ge=0.0, le=1.0, description="probability the shared photon is present per mode")
    resource_fidelity: float = Field(1.0, ge=0.5, le=1.0, description="fidelity F of the single-photon Bell state (visibility 2F - 1)")
    resource_rate: Frequency | None = Field(None, gt=0.0, description="entangled pairs per second the network delivers (None: unlimited)")
    postselect_coincidences: bool = Field(True, description="keep only one-photon-per-site patterns (the GJC scheme)")
    star_cutoff: int = Field(3, ge=2, le=4, description="Fock cutoff per star mode of the exact table")


class MemoryArraySettings(DelaySettings):
    """Config of ``kind: memory_array`` (KBDL)."""

    kind: Literal["memory_array"] = "memory_array"
    memory_efficiency: float = Field(1.0, ge=0.0, le=1.0, description="write-read efficiency of each site's memory")
    storage_time: Duration = Field(0.0, ge=0.0, description="time a photon waits in memory for the parity checks")
    memory_coherence_time: Duration | None = Field(None, gt=0.0, description="1/e storage time of the memory (None: no decay)")
    pair_fidelity: float = Field(1.0, ge=0.25, le=1.0, description="Werner fidelity of the shared Bell pairs")
    pairs_per_photon: int = Field(1, ge=1, le=64, description="Bell pairs whose noise enters one photon's phase readout")
    pair_rate: Frequency | None = Field(None, gt=0.0, description="Bell pairs per second the network delivers (None: unlimited)")
    window_bins: int | None = Field(None, ge=1, description="time bins per storage window M (default round(1/epsilon))")
    overhead_ebits: float = Field(0.0, ge=0.0, le=100.0, description="extra ebits per window beyond log2 M")


# --------------------------------------------------------------------------------------
# thermal schemes
# --------------------------------------------------------------------------------------


def _pair(light: ApertureLight, apertures) -> np.ndarray:
    i, j = apertures
    if max(i, j) >= light.num_apertures:
        raise ValueError(f"apertures {list(apertures)}: the scene has {light.num_apertures} apertures")
    n = np.asarray(light.correlation)
    return n[..., [i, j], :][..., :, [i, j]]


def _wishart_intensities(rng, copies, root, modes, transfers):
    r"""Per-copy detected intensities :math:`(T R W R^\dagger T^\dagger)_{pp}` with W complex Wishart(K, I_2)."""
    g1 = rng.gamma(float(modes), 1.0, size=copies)
    g2 = rng.gamma(float(modes - 1), 1.0, size=copies) if modes > 1 else np.zeros(copies)
    z = (rng.standard_normal(copies) + 1j * rng.standard_normal(copies)) / np.sqrt(2.0)
    a = np.zeros((copies, 2, 2), dtype=complex)  # Bartlett factor, W = A A^dagger
    a[:, 0, 0], a[:, 1, 0], a[:, 1, 1] = np.sqrt(g1), z, np.sqrt(g2)
    amplitude = transfers @ root @ a  # (copies, 2 ports, 2)
    return (np.abs(amplitude) ** 2).sum(axis=-1)


class ThermalScheme(Detector):
    """Common machinery of the thermal-light schemes (intensity, direct, memory_array)."""

    accepts = ApertureLight
    capabilities = frozenset({"likelihood", "visibility"})

    # subclasses: transfers(light) -> (L, 2, 2) amplitude transfers; swap_probability; modes(light)
    def delay_phases(self, light) -> np.ndarray:
        s = self.settings
        delays = np.asarray(getattr(s, "delays", [0.0]), dtype=float)
        if getattr(s, "delay_reference", "fixed") == "tracked":
            i, j = s.apertures
            delays = delays + float(np.asarray(light.reference_phase)[i, j])
        return delays

    def modes(self, light) -> int:
        return 1

    def swap_probability(self) -> float:
        return 0.0

    def transfers(self, light) -> np.ndarray:
        raise NotImplementedError

    def detected_photons_per_copy(self, light) -> float:
        """Mean detected signal photons per copy (time bin), excluding dark counts."""
        pair = _pair(light, self.settings.apertures)
        t = self.transfers(light)
        out = np.einsum("dki,ij,dkj->", t.conj(), np.asarray(pair), t).real / len(t)
        return float(out) * self.modes(light)

    def output_labels(self, light) -> list[str]:
        return [f"d{d}:port{k}" for d in range(len(getattr(self.settings, "delays", [0.0]))) for k in (0, 1)]

    def outcome_model(self, light: ApertureLight) -> PatternModel:
        s = self.settings
        pair = _pair(light, s.apertures)
        transfers = self.transfers(light)
        delays = len(transfers)
        modes = self.modes(light)
        swap = self.swap_probability()
        threshold = s.pixel_type == "threshold"
        batch = pair.shape[:-2]
        flat = pair.reshape(-1, 2, 2)
        # the per-port mean at the first point fixes the box
        out_n = np.einsum("dki,ij,dlj->dkl", transfers.conj(), flat[0], transfers)
        port_mean = float(np.max(np.real(np.diagonal(out_n, axis1=-2, axis2=-1)))) * modes + s.dark_counts
        cutoff = 2 if threshold else (s.cutoff or auto_cutoff(port_mean))
        tables = []
        for n in flat:
            dn = pair_derivatives(n)
            per_delay = []
            for t in transfers:
                n_out = t.conj() @ n @ t.T
                dn_out = np.einsum("ki,sij,lj->skl", t.conj(), dn, t)
                if threshold:
                    table = threshold_table(n_out, dn_out, s.dark_counts, modes)
                else:
                    table = add_dark_counts(thermal_table(n_out, dn_out, cutoff, modes), s.dark_counts)
                if swap > 0:
                    table = (1 - swap) * table + swap * np.swapaxes(table, -1, -2)
                per_delay.append(table)
            tables.append(np.stack(per_delay) / delays)  # (L, 1 + 2, c, c)
        tables = np.stack(tables)  # (G, L, 3, c, c)
        moments = [_moments(t[:, 0]) for t in tables]
        flat_patterns = tables.reshape(*tables.shape[:3], cutoff * cutoff)
        zero = flat_patterns[..., 0].sum(axis=1)  # (G, 3): nothing detected, whatever the delay
        kept = np.moveaxis(flat_patterns[..., 1:], 2, 1).reshape(len(flat), 3, -1)  # (G, 3, L (c^2 - 1))
        body = np.concatenate([zero[..., None], kept], axis=-1)
        if not threshold:  # everything outside the box
            overflow = np.clip(1.0 - body[:, 0].sum(axis=-1), 0.0, None)
            body = np.concatenate([body, np.stack([overflow, *(-body[:, k].sum(axis=-1) for k in (1, 2))], axis=-1)[..., None]], axis=-1)
        labels = [f"d{d}:port{k}" for d in range(delays) for k in (0, 1)]
        scalar = not batch
        box = cutoff * cutoff - 1

        def pattern_index(rows):
            delay, counts = _delay_counts(rows, delays)
            flat_index = counts[:, 0] * cutoff + counts[:, 1]
            index = np.where(flat_index == 0, 0, delay * box + flat_index)
            if not threshold:
                index = np.where((counts >= cutoff).any(axis=1), 1 + delays * box, index)
            return index

        model = PatternModel(
            body[:, 0].reshape(*batch, -1), body[:, 1:].reshape(*batch, 2, -1)[()] if scalar else None, labels,
            np.stack([m[0] for m in moments]).reshape(*batch, -1), moments[0][1],
            self._sampler(flat[0], transfers, modes, swap, threshold) if scalar else None, pattern_index,
            temporal_modes_per_copy=modes, cutoff=cutoff, delays=self.delay_phases(light),
        )
        if scalar:
            self._bookkeeping(model, light)
        return model

    def _sampler(self, pair, transfers, modes, swap, threshold):
        s = self.settings
        values, vectors = np.linalg.eigh(np.asarray(pair).T)
        root = vectors * np.sqrt(np.clip(values, 0.0, None))  # N^T = R R^dagger
        delays = len(transfers)

        def draw(rng, copies):
            delay = rng.integers(delays, size=copies)
            intensity = _wishart_intensities(rng, copies, root, modes, transfers[delay])
            counts = rng.poisson(intensity + s.dark_counts)
            if swap > 0:
                flip = rng.random(copies) < swap
                counts[flip] = counts[flip, ::-1]
            if threshold:
                counts = np.minimum(counts, 1)
            return _rows(delay, counts, delays)

        return draw

    # -- bookkeeping --------------------------------------------------------------------
    def _bookkeeping(self, model, light):
        model.ebits_per_copy = self.ebits_per_copy(light)
        model.detected_photons_per_copy = self.detected_photons_per_copy(light)
        detected = model.detected_photons_per_copy
        model.ebits_per_detected_photon = model.ebits_per_copy / detected if detected > 0 else np.inf
        model.copies_per_second_limit = self.copies_per_second_limit(light)
        model.closed_form_fisher = lambda: self.closed_form_fisher(light)
        model.estimate_visibility = lambda stats: self.estimate_visibility(light, model, stats)

    def ebits_per_copy(self, light) -> float:
        return 0.0

    def copies_per_second_limit(self, light) -> float | None:
        return None

    def closed_form_fisher(self, light) -> np.ndarray:
        raise NotImplementedError

    def _eps(self, light) -> tuple[float, complex]:
        pair = _pair(light, self.settings.apertures)
        nbar = float(np.sqrt(pair[0, 0].real * pair[1, 1].real))
        return 2 * nbar, complex(pair[0, 1] / nbar)

    def estimate_visibility(self, light, model, statistics) -> np.ndarray:
        r"""Fringe estimator of :math:`g` from the port totals per delay (shape ``(R, 2)``: |g|, phase).

        Port totals per delay :math:`T^\pm_d` give the contrast
        :math:`c_d = (T^+_d - T^-_d)/(T^+_d + T^-_d - 2 d C_d)` with
        :math:`E c_d \approx \kappa\,\mathrm{Re}(g e^{-i\delta_d})`; a least-squares fit of
        :math:`(\mathrm{Re}\,g, \mathrm{Im}\,g)` over the delays, divided by the known contrast
        factor :math:`\kappa` of the scheme.
        """
        return _fringe_estimate(model, statistics, self.fringe_factor(light), self.settings.dark_counts)

    def fringe_factor(self, light) -> float:
        return 1.0


def _port_totals(model, statistics):
    """Per delay: total counts of port 0 and 1 from the pattern histogram (overflow left out)."""
    c = model.info["cutoff"]
    delays = len(model.info["delays"])
    totals = np.asarray(statistics["totals"], dtype=float)
    box = totals[..., : delays * (c * c - 1)].reshape(*totals.shape[:-1], delays, c * c - 1)
    grid = np.concatenate([np.zeros((*box.shape[:-1], 1)), box], axis=-1).reshape(*box.shape[:-1], c, c)
    counts = np.arange(c)
    port0 = (grid * counts[:, None]).sum(axis=(-1, -2))
    port1 = (grid * counts[None, :]).sum(axis=(-1, -2))
    return port0, port1


def _fringe_estimate(model, statistics, factor, dark):
    port0, port1 = _port_totals(model, statistics)
    copies = np.asarray(statistics["copies"], dtype=float)[..., None] / port0.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        contrast = (port0 - port1) / (port0 + port1 - 2 * dark * copies) / factor
    delays = np.asarray(model.info["delays"], dtype=float)
    design = np.stack([np.cos(delays), np.sin(delays)], axis=-1)  # c_d = X cos d + Y sin d
    if len(delays) == 1 or np.linalg.matrix_rank(design) < 2:
        return np.stack([np.abs(contrast[..., 0] / np.cos(delays[0])), np.full(contrast.shape[:-1], np.nan)], axis=-1)
    coef, *_ = np.linalg.lstsq(design, np.nan_to_num(contrast).T, rcond=None)
    g = coef[0] + 1j * coef[1]
    bad = ~np.all(np.isfinite(contrast), axis=-1)
    return np.stack([np.where(bad, np.nan, np.abs(g)), np.where(bad, np.nan, np.angle(g))], axis=-1)


class Intensity(ThermalScheme):
    r"""Intensity interferometry: local counting at both sites, correlated afterwards.

    One copy is one detector time bin of K = ``modes_per_bin`` temporal modes; its counts are
    the sum of K i.i.d. modes (exact table by convolution, P-function sampler with a K-dof complex
    Wishart). Leading order per **temporal mode** [D]:
    :math:`F_{|g|} = \varepsilon^2|g|^2/(K + |g|^2)` (K = 1: PHYSICS.md §3.3), no phase information.
    """

    kind = "intensity"
    Settings = IntensitySettings

    @classmethod
    def example(cls):
        return EXAMPLE_SCENE, {
            "kind": "intensity", "name": "hbt", "efficiency": 0.8, "dark_counts": 0.01, "modes_per_bin": 2}

    @classmethod
    def examples(cls):
        scene, det = cls.example()
        return [(scene, det), (scene, {**det, "pixel_type": "threshold", "modes_per_bin": 1})]

    def modes(self, light) -> int:
        s = self.settings
        if s.modes_per_bin is not None:
            return int(s.modes_per_bin)
        if s.timing_jitter is not None:
            if light.modes_per_second is None:
                raise ValueError(f"detector {s.name!r}: timing_jitter needs the scene's bandwidth (or give modes_per_bin)")
            return max(1, int(round(s.timing_jitter * light.modes_per_second)))
        return 1

    def transfers(self, light):
        return np.sqrt(self.settings.efficiency) * np.eye(2)[None].astype(complex)

    def outcome_model(self, light):
        model = super().outcome_model(light)
        if model.visibility_derivatives is not None:
            # local counts depend on |N_01|^2 only: the phase derivative vanishes exactly (what the
            # recursion returns is rounding noise, ~1e-20 of the amplitude's)
            model.visibility_derivatives = model.visibility_derivatives.copy()
            model.visibility_derivatives[1] = 0.0
        return model

    def closed_form_fisher(self, light):
        eps, g = self._eps(light)
        k = self.modes(light)
        eta = self.settings.efficiency
        modulus = abs(g)
        return np.diag([(eta * eps) ** 2 * modulus**2 / (k + modulus**2), 0.0])

    def estimate_visibility(self, light, model, statistics):
        r""":math:`|\hat g|^2 = K\,\widehat{\mathrm{cov}}(n_0, n_1)/((\bar n_0 - d)(\bar n_1 - d))` per time bin; no phase."""
        c = model.info["cutoff"]
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        box = totals[..., : c * c - 1]
        grid = np.concatenate([np.zeros((*box.shape[:-1], 1)), box], axis=-1).reshape(*box.shape[:-1], c, c)
        counts = np.arange(c)
        with np.errstate(divide="ignore", invalid="ignore"):
            m0 = (grid * counts[:, None]).sum(axis=(-1, -2)) / copies
            m1 = (grid * counts[None, :]).sum(axis=(-1, -2)) / copies
            m01 = (grid * np.outer(counts, counts)).sum(axis=(-1, -2)) / copies
            d = self.settings.dark_counts
            g2 = model.temporal_modes_per_copy * (m01 - m0 * m1) / ((m0 - d) * (m1 - d))
        return np.stack([np.sqrt(np.clip(g2, 0.0, None)), np.full(g2.shape, np.nan)], axis=-1)


class Direct(ThermalScheme):
    r"""Direct beam combination at the midpoint of the baseline.

    Each arm has length B/2 (B: the baseline between the two apertures) and power transmission
    :math:`\eta_{link} = 10^{-\alpha B/20}` (fibre, α = ``loss_db_per_km``); a free-space relay of
    diameter :math:`D_r` adds the far-field diffraction factor
    :math:`\min(1, (\pi D_r^2/(4\lambda L))^2)`. Then a 50:50 beam splitter after the delay δ:
    :math:`b_\pm = (\sqrt{\eta_0}a_0 \pm e^{-i\delta}\sqrt{\eta_1}a_1)/\sqrt2`. Leading order:
    PHYSICS.md §3.3 (``direct_fisher_information_leading_order``) averaged over the delays.
    """

    kind = "direct"
    Settings = DirectSettings

    @classmethod
    def example(cls):
        return EXAMPLE_SCENE, {
            "kind": "direct", "name": "direct", "efficiency": 0.9, "dark_counts": 0.01, "loss_db_per_km": 5.0}

    @classmethod
    def examples(cls):
        scene, det = cls.example()
        return [(scene, det), (scene, {**det, "pixel_type": "threshold", "link": "free_space", "loss_db_per_km": 0.0})]

    def arm_transmission(self, light) -> float:
        """Power transmission of each arm (combiner at the midpoint)."""
        s = self.settings
        i, j = s.apertures
        arm = float(np.linalg.norm(light.positions[j] - light.positions[i])) / 2.0
        if s.link == "fiber":
            alpha = 0.2 if s.loss_db_per_km is None else s.loss_db_per_km
            return float(fiber_transmission(arm / 1e3, alpha))
        alpha = 0.0 if s.loss_db_per_km is None else s.loss_db_per_km
        relay = s.relay_diameter or light.aperture_diameter
        fresnel = np.pi * relay**2 / (4 * light.wavelength * arm)
        return float(fiber_transmission(arm / 1e3, alpha) * min(1.0, fresnel**2))

    def transfers(self, light):
        eta = self.arm_transmission(light) * self.settings.efficiency
        out = []
        for delta in self.delay_phases(light):
            out.append(np.sqrt(eta / 2) * np.array([[1.0, np.exp(-1j * delta)], [1.0, -np.exp(-1j * delta)]]))
        return np.stack(out)

    def closed_form_fisher(self, light):
        eps, g = self._eps(light)
        eta = self.arm_transmission(light) * self.settings.efficiency
        return np.mean([direct_fisher_information_leading_order(eps, g, d, eta) for d in self.delay_phases(light)], axis=0)


class MemoryArray(ThermalScheme):
    r"""KBDL memory-assisted interferometry ([M] model, PHYSICS.md §3.3-3.4).

    Acts as lossless direct detection without sending starlight: each site's photon is stored
    with transmissivity :math:`\eta_m` = :class:`~sensing.detectors.memory.QuantumMemory`
    (:math:`\eta_{wr}e^{-t/T}`) times the detector efficiency; the parity checks with Werner
    pairs of fidelity F read the which-site phase with contrast :math:`D = ((4F-1)/3)^k`, i.e.
    the two readout outcomes are exchanged with probability :math:`(1-D)/2`. Entanglement:
    :math:`(\log_2 M + c)/M` ebits per temporal mode (``kbdl_ebits_per_copy``).
    """

    kind = "memory_array"
    Settings = MemoryArraySettings

    @classmethod
    def example(cls):
        return EXAMPLE_SCENE, {
            "kind": "memory_array", "name": "kbdl", "efficiency": 0.9, "memory_efficiency": 0.7, "storage_time": "1 ms",
            "memory_coherence_time": "10 ms", "pair_fidelity": 0.95, "dark_counts": 0.01}

    def memory(self) -> QuantumMemory:
        s = self.settings
        return QuantumMemory(s.memory_efficiency, s.storage_time, s.memory_coherence_time)

    def contrast(self) -> float:
        s = self.settings
        return float(((4 * s.pair_fidelity - 1) / 3) ** s.pairs_per_photon)

    def swap_probability(self) -> float:
        return 0.5 * (1.0 - self.contrast())

    def fringe_factor(self, light) -> float:
        return self.contrast()

    def transfers(self, light):
        eta = self.memory().transmissivity * self.settings.efficiency
        return np.stack([np.sqrt(eta / 2) * np.array([[1.0, np.exp(-1j * d)], [1.0, -np.exp(-1j * d)]])
                         for d in self.delay_phases(light)])

    def closed_form_fisher(self, light):
        eps, g = self._eps(light)
        s = self.settings
        eta = self.memory().transmissivity * s.efficiency
        return np.mean([kbdl_fisher_information(eps, g, d, memory_efficiency=eta, pair_fidelity=s.pair_fidelity,
                                                pairs_per_photon=s.pairs_per_photon) for d in self.delay_phases(light)], axis=0)

    def ebits_per_copy(self, light) -> float:
        s = self.settings
        eps, _ = self._eps(light)
        detected = eps * self.memory().transmissivity * s.efficiency
        return float(kbdl_ebits_per_copy(detected, s.window_bins, s.overhead_ebits))

    def copies_per_second_limit(self, light):
        rate = self.settings.pair_rate
        e = self.ebits_per_copy(light)
        return None if rate is None or e == 0 else rate / e


# --------------------------------------------------------------------------------------
# GJC (Fock space)
# --------------------------------------------------------------------------------------


class EntanglementAssisted(Detector):
    r"""GJC entanglement-assisted interferometry (PHYSICS.md §3.3).

    Exact outcome table from :func:`~sensing.physics.interferometry.gjc_outcome_probabilities`
    (thewalrus Fock density matrix of the star light, the single-photon resource with
    efficiency :math:`\eta_r` and visibility :math:`V_r = 2F - 1`, local 50:50 beam splitters,
    number-resolving counting). Detector efficiency η is loss before the beam splitters on both
    inputs: star photons :math:`\varepsilon\to\eta\varepsilon`, resource :math:`\eta_r\to\eta\eta_r`.
    Dark counts are convolved into every port. With ``postselect_coincidences`` the record keeps
    the four one-photon-per-site patterns per delay; the rest is one rejected outcome.
    Leading order: ``gjc_fisher_information_leading_order`` (half of lossless direct).
    """

    kind = "entanglement_assisted"
    Settings = EntanglementAssistedSettings
    accepts = ApertureLight
    capabilities = frozenset({"likelihood", "visibility"})

    @classmethod
    def example(cls):
        return EXAMPLE_SCENE, {
            "kind": "entanglement_assisted", "name": "gjc", "efficiency": 0.9, "resource_efficiency": 0.8,
            "resource_fidelity": 0.95, "dark_counts": 0.005}

    @classmethod
    def examples(cls):
        scene, det = cls.example()
        return [(scene, det), (scene, {**det, "postselect_coincidences": False, "star_cutoff": 2, "delays": [0.3]})]

    def delay_phases(self, light):
        return ThermalScheme.delay_phases(self, light)

    def output_labels(self, light) -> list[str]:
        return [f"d{d}:s{site}p{port}" for d in range(len(self.settings.delays)) for site in (0, 1) for port in (1, 2)]

    def _tables(self, n):
        # the exact Fock-space table costs ~0.1 s: kept per (state, delays) for the plan, sampling and analysis
        key = (np.asarray(n, dtype=complex).tobytes(), np.asarray(self._delays, dtype=float).tobytes())
        cache = self.__dict__.setdefault("_table_cache", {})
        if key not in cache:
            if len(cache) >= 64:
                cache.pop(next(iter(cache)))
            cache[key] = self._compute_tables(n)
        return cache[key]

    def _compute_tables(self, n):
        s = self.settings
        scale = float(np.sqrt(n[0, 0].real * n[1, 1].real))
        eps = 2 * scale * s.efficiency
        g = complex(n[0, 1] / scale)
        out = []
        for delta in self._delays:
            res = gjc_outcome_probabilities(eps, g, delta, s.resource_efficiency * s.efficiency,
                                            2 * s.resource_fidelity - 1, s.star_cutoff)
            table = np.concatenate([res.probabilities[None], res.derivatives])
            out.append(add_dark_counts(table, s.dark_counts))
        return np.stack(out) / len(self._delays)  # (L, 3, c, c, c, c)

    def outcome_model(self, light: ApertureLight) -> PatternModel:
        s = self.settings
        pair = _pair(light, s.apertures)
        self._delays = self.delay_phases(light)
        batch = pair.shape[:-2]
        flat = pair.reshape(-1, 2, 2)
        dim = s.star_cutoff + 1
        delays = len(self._delays)
        box = [k for k in np.ndindex(dim, dim, dim, dim) if any(k)]
        if s.postselect_coincidences:
            kept_patterns = [(1, 0, 1, 0), (1, 0, 0, 1), (0, 1, 1, 0), (0, 1, 0, 1)]
        else:
            kept_patterns = box
        position = {k: i for i, k in enumerate(kept_patterns)}
        probabilities, derivatives, means, full_tables = [], [], [], []
        for n in flat:
            t = self._tables(n)  # (L, 3, dim, dim, dim, dim)
            kept = np.stack([t[(slice(None), slice(None)) + k] for k in kept_patterns], axis=-1)  # (L, 3, P)
            kept = np.moveaxis(kept, 1, 0).reshape(3, -1)
            if s.postselect_coincidences:
                p = np.concatenate([[1.0 - kept[0].sum()], kept[0]])
                d = np.concatenate([-kept[1:].sum(axis=-1)[:, None], kept[1:]], axis=1)
            else:
                zero, dzero = t[:, 0, 0, 0, 0, 0].sum(), t[:, 1:, 0, 0, 0, 0].sum(axis=0)
                tail = max(0.0, 1.0 - zero - kept[0].sum())
                p = np.concatenate([[zero], kept[0], [tail]])
                d = np.concatenate([dzero[:, None], kept[1:], -(dzero + kept[1:].sum(-1))[:, None]], axis=1)
            probabilities.append(p)
            derivatives.append(d)
            mean, second = _moments(t[:, 0])
            lost = max(0.0, 1.0 - t[:, 0].sum()) / delays  # Fock-truncated mass, recorded as [dim, 0, 0, 0]
            mean[::4] += lost * dim
            second[np.arange(0, 4 * delays, 4), np.arange(0, 4 * delays, 4)] += lost * dim**2
            means.append((mean, second))
            full_tables.append(t[:, 0])
        labels = [f"d{d}:s{site}p{port}" for d in range(delays) for site in (0, 1) for port in (1, 2)]
        count = len(kept_patterns)

        def pattern_index(rows):
            delay, counts = _delay_counts(rows, delays)
            out = np.zeros(len(rows), dtype=np.int64)
            overflow = (counts >= dim).any(axis=1)
            for i, c in enumerate(map(tuple, counts)):
                if overflow[i] or not any(c):
                    continue
                j = position.get(c)
                if j is not None:
                    out[i] = 1 + delay[i] * count + j
            if not s.postselect_coincidences:
                out[overflow] = 1 + delays * count
            return out

        draw = None
        if not batch:
            table = np.clip(full_tables[0], 0.0, None).reshape(-1)  # (L * dim^4): delay-major
            tail = max(0.0, 1.0 - table.sum())
            cdf = np.cumsum(np.append(table, tail))
            cdf /= cdf[-1]
            grid = np.array(list(np.ndindex(dim, dim, dim, dim)))

            def draw(rng, copies):
                k = np.searchsorted(cdf, rng.random(copies), side="right").clip(max=len(cdf) - 1)
                in_box = k < len(table)
                delay = np.where(in_box, k // dim**4, rng.integers(delays, size=copies))
                counts = np.where(in_box[:, None], grid[k % dim**4], np.array([dim, 0, 0, 0]))
                return _rows(delay, counts, delays)

        model = PatternModel(np.stack(probabilities).reshape(*batch, -1),
                             None if batch else derivatives[0], labels,
                             np.stack([m[0] for m in means]).reshape(*batch, -1), means[0][1], draw, pattern_index,
                             delays=self._delays, postselect=s.postselect_coincidences, ports=kept_patterns)
        if not batch:
            eps = 2 * float(np.sqrt(pair[0, 0].real * pair[1, 1].real))
            model.detected_photons_per_copy = eps * s.efficiency
            model.ebits_per_copy = self.ebits_per_copy(light)
            model.ebits_per_detected_photon = model.ebits_per_copy / model.detected_photons_per_copy
            model.copies_per_second_limit = None if s.resource_rate is None else s.resource_rate / model.ebits_per_copy
            model.closed_form_fisher = lambda: self.closed_form_fisher(light)
            model.estimate_visibility = lambda stats: self.estimate_visibility(light, model, stats)
        return model

    def ebits_per_copy(self, light) -> float:
        return float(gjc_ebits_per_copy(1))

    def closed_form_fisher(self, light):
        s = self.settings
        pair = _pair(light, s.apertures)
        scale = float(np.sqrt(pair[0, 0].real * pair[1, 1].real))
        g = complex(pair[0, 1] / scale)
        return np.mean([gjc_fisher_information_leading_order(2 * scale * s.efficiency, g, d,
                                                             s.resource_efficiency * s.efficiency, 2 * s.resource_fidelity - 1)
                        for d in self.delay_phases(light)], axis=0)

    def estimate_visibility(self, light, model, statistics):
        r"""Coincidence fringe per delay, :math:`c_d = (C_{same} - C_{diff})/(C_{same} + C_{diff})`
        (same/different output port index at the two sites), with
        :math:`E c_d \approx \sigma V_r\mathrm{Re}(g e^{-i\delta_d})`; the sign σ and the
        accidental-coincidence background are read off the exact model at :math:`g = \pm1`... here
        the sign is calibrated once on the exact table at :math:`g = 0.9`, δ = 0. Least squares over
        the delays as for the thermal schemes."""
        s = self.settings
        delays = len(self._delays)
        totals = np.asarray(statistics["totals"], dtype=float)
        ports = model.info["ports"]
        same = np.array([1.0 if sum(k) == 2 and ((k[0] == 1 and k[2] == 1) or (k[1] == 1 and k[3] == 1)) else 0.0 for k in ports])
        diff = np.array([1.0 if sum(k) == 2 and ((k[0] == 1 and k[3] == 1) or (k[1] == 1 and k[2] == 1)) else 0.0 for k in ports])
        per = totals[..., : delays * len(ports)].reshape(*totals.shape[:-1], delays, len(ports))
        cs, cd = per @ same, per @ diff
        with np.errstate(divide="ignore", invalid="ignore"):
            contrast = (cs - cd) / (cs + cd) / (self._sign() * (2 * s.resource_fidelity - 1))
        delays_abs = np.asarray(self._delays, dtype=float)
        design = np.stack([np.cos(delays_abs), np.sin(delays_abs)], axis=-1)
        if np.linalg.matrix_rank(design) < 2:
            return np.stack([np.abs(contrast[..., 0] / np.cos(delays_abs[0])), np.full(contrast.shape[:-1], np.nan)], axis=-1)
        coef, *_ = np.linalg.lstsq(design, np.nan_to_num(contrast).T, rcond=None)
        g = coef[0] + 1j * coef[1]
        bad = ~np.all(np.isfinite(contrast), axis=-1)
        return np.stack([np.where(bad, np.nan, np.abs(g)), np.where(bad, np.nan, np.angle(g))], axis=-1)

    def _sign(self) -> float:
        res = gjc_outcome_probabilities(0.01, 0.9, 0.0, 1.0, 1.0, 2)
        p = res.probabilities
        same = p[1, 0, 1, 0] + p[0, 1, 0, 1]
        diff = p[1, 0, 0, 1] + p[0, 1, 1, 0]
        return float(np.sign(same - diff))
