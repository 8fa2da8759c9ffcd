r"""Photon counting on classical (thermal or coherent) light: cameras, threshold and
number-resolving detectors.

Every output ``k`` of a counting detector measures :math:`\hat n_k = \hat a^\dagger M_k
\hat a`, with :math:`M_k` a positive matrix in the scene's image-plane mode basis (a
pixel's region integral, a sorter's output mode). For P-representable light the counts are
exactly (Mandel's formula) Poisson given the P-function amplitude :math:`\alpha`:

.. math:: n_k \,|\, \alpha \sim \mathrm{Poisson}(\eta\,\alpha^\dagger M_k\alpha + d_k),
          \qquad \alpha \sim \mathcal{CN}(0, \Gamma^T),

with efficiency :math:`\eta`, dark counts :math:`d_k` per copy and
:math:`\Gamma_{ij}=\langle a_i^\dagger a_j\rangle`. Writing :math:`\Gamma^T = LL^\dagger`
(rank r = number of incoherent sources), the per-output response in the source space is
:math:`R_k = \eta L^\dagger M_k L` (r x r). Exact moments follow from the Gaussian moment
theorem:

.. math:: E[n_k] = \mathrm{tr} R_k + d_k, \qquad
          \mathrm{Cov}(n_k, n_l) = \delta_{kl} E[n_k] + \mathrm{tr}(R_k R_l),

and threshold ("click") outputs have
:math:`P(\text{no click}_k) = e^{-d_k}/\det(I + R_k)`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from detectors.base import Detector, DetectorSettings, OutcomeModel, Statistics, chunk_size
from sensing.registry import register_detector
from sensing.states import GaussianState, ThermalLight

PixelType = Literal["number_resolving", "threshold"]


def complex_wishart(rng: np.random.Generator, dof: int, dim: int) -> np.ndarray:
    r"""Sample :math:`W = \sum_{c=1}^{dof} z_c z_c^\dagger`, :math:`z_c \sim \mathcal{CN}(0, I_{dim})`.

    Bartlett decomposition: :math:`W = AA^\dagger` with A lower triangular,
    :math:`|A_{jj}|^2 \sim \mathrm{Gamma}(dof - j, 1)` and :math:`A_{jk} \sim \mathcal{CN}(0,1)`
    below the diagonal. The cost does not depend on ``dof``.
    """
    if dof == 0:
        return np.zeros((dim, dim), dtype=complex)
    if dof < dim:  # rank-deficient: draw the vectors themselves
        z = (rng.standard_normal((dof, dim)) + 1j * rng.standard_normal((dof, dim))) / np.sqrt(2)
        return z.T @ z.conj()
    a = np.zeros((dim, dim), dtype=complex)
    a[np.diag_indices(dim)] = np.sqrt(rng.gamma(dof - np.arange(dim), 1.0))
    low = np.tril_indices(dim, -1)
    a[low] = (rng.standard_normal(len(low[0])) + 1j * rng.standard_normal(len(low[0]))) / np.sqrt(2)
    return a @ a.conj().T


class ClassicalCountingModel(OutcomeModel):
    """Exact outcome model of photon counting (``counts``) or clicks (``clicks``) on classical light.

    Parameters
    ----------
    correlation : ndarray, shape ``(..., K, K)``
        :math:`\\Gamma` of the light, possibly batched over parameter points.
    operators : ndarray, shape ``(n, K, K)``
        :math:`M_k` of each output in the same mode basis.
    efficiency : float
    dark_counts : ndarray, shape ``(n,)``
        Mean dark counts per output per copy.
    threshold : bool
        Click detectors instead of number-resolving ones.
    labels : list of str
    """

    def __init__(self, correlation, operators, efficiency, dark_counts, threshold, labels):
        self.correlation = np.asarray(correlation)
        self.operators = np.asarray(operators)
        self.efficiency = float(efficiency)
        self.dark_counts = np.broadcast_to(np.asarray(dark_counts, dtype=float), (self.operators.shape[0],)).copy()
        self.threshold = bool(threshold)
        self.labels = list(labels)
        self.family = "clicks" if self.threshold else "counts"

    # -- moments ----------------------------------------------------------------------
    def _responses(self) -> np.ndarray:
        """:math:`R_k = \\eta L^\\dagger M_k L` (unbatched), shape ``(n, r, r)``."""
        if self.correlation.ndim != 2:
            raise ValueError("sampling and covariances need one parameter point, not a batch")
        if not hasattr(self, "_cached_responses"):
            values, vectors = np.linalg.eigh(self.correlation.T)
            keep = values > 1e-14 * max(values.max(), 1e-300)
            factor = vectors[:, keep] * np.sqrt(values[keep])  # L, Gamma^T = L L^dagger
            r = np.einsum("ia,kij,jb->kab", factor.conj(), self.operators, factor)
            self._cached_responses = self.efficiency * 0.5 * (r + np.conj(np.swapaxes(r, -1, -2)))
        return self._cached_responses

    def signal_mean(self) -> np.ndarray:
        """Mean detected signal photons per output per copy, shape ``(..., n)``."""
        k = self.correlation.shape[-1]
        flat_ops = self.operators.reshape(self.operators.shape[0], k * k)
        flat_corr = self.correlation.reshape(*self.correlation.shape[:-2], k * k)
        if np.iscomplexobj(flat_ops) or np.iscomplexobj(flat_corr):
            return self.efficiency * (flat_corr @ flat_ops.T).real  # sum_ij M_kij Gamma_ij
        return self.efficiency * (flat_corr @ flat_ops.T)

    def _no_click(self, extra: np.ndarray | None = None) -> np.ndarray:
        """:math:`P(\\text{no click}_k) = e^{-d_k}/\\det(I + \\eta\\Gamma^T M_k)`, batched."""
        gt = np.swapaxes(self.correlation, -1, -2)[..., None, :, :]
        k = gt.shape[-1]
        det = np.linalg.det(np.eye(k) + self.efficiency * gt @ self.operators).real
        return np.exp(-self.dark_counts) / det

    def mean(self) -> np.ndarray:
        if self.threshold:
            return 1.0 - self._no_click()
        return self.signal_mean() + self.dark_counts

    def covariance(self) -> np.ndarray:
        r = self._responses()
        if not self.threshold:
            return np.diag(self.mean()) + np.einsum("kab,lba->kl", r, r).real
        dim = r.shape[-1]
        eye = np.eye(dim)
        none_k = np.exp(-self.dark_counts) / np.linalg.det(eye + r).real
        pair = eye + r[:, None] + r[None, :]
        none_kl = np.exp(-self.dark_counts[:, None] - self.dark_counts[None, :]) / np.linalg.det(pair).real
        cov = none_kl - np.outer(none_k, none_k)
        np.fill_diagonal(cov, none_k * (1 - none_k))
        return cov

    # -- sampling -------------------------------------------------------------------------
    def _eigenmodes(self):
        """Thermal eigenmodes of the total detected light: eigenvalues and vectors of sum_k R_k."""
        r = self._responses()
        lam, u = np.linalg.eigh(r.sum(axis=0))
        live = lam > 0
        return r, lam[live], u[:, live]

    def _lit_copies(self, rng: np.random.Generator, copies: int) -> int:
        """Number of copies with at least one detected signal photon (binomial)."""
        _, lam, _ = self._eigenmodes()
        return int(rng.binomial(copies, -np.expm1(-np.log1p(lam).sum()))) if lam.size else 0

    def _lit_counts(self, rng: np.random.Generator, lit: int) -> np.ndarray:
        """Exact signal counts per output of ``lit`` copies, each conditioned on >= 1 photon.

        The detected light is a sum of independent thermal eigenmodes of
        :math:`\sum_k R_k` (eigenvalues :math:`\lambda_j`) whose photon numbers are
        geometric with means :math:`\lambda_j`. Conditioning on a non-empty copy: the first
        non-empty eigenmode j is drawn with probability proportional to
        :math:`\prod_{i<j} p_i\,(1-p_j)`, :math:`p_i = 1/(1+\lambda_i)`; its count is
        geometric on {1, 2, ...} (memorylessness), later ones geometric on {0, 1, ...},
        earlier ones zero. Given a count g, the eigenmode's intensity is
        Gamma(g + 1, scale 1/(1 + lambda_j)) with a uniform phase (Poisson likelihood times
        exponential prior); the photons then split over the outputs multinomially with
        probabilities :math:`\alpha^\dagger R_k\alpha / \sum_l \alpha^\dagger R_l\alpha`.
        """
        r, lam, u = self._eigenmodes()
        empty = 1.0 / (1.0 + lam)
        first_weights = np.concatenate([[1.0], np.cumprod(empty)[:-1]]) * (1 - empty)
        first = rng.choice(lam.size, size=lit, p=first_weights / first_weights.sum())
        g = rng.geometric(empty, size=(lit, lam.size)) - 1
        order = np.arange(lam.size)
        g = np.where(order < first[:, None], 0, g)
        g[np.arange(lit), first] += 1
        intensity = rng.gamma(g + 1.0, 1.0 / (1.0 + lam))
        phase = np.exp(2j * np.pi * rng.random(g.shape))
        z = (np.sqrt(intensity) * phase) @ u.T  # amplitudes in the source space, (lit, r)
        per_output = np.einsum("ca,kab,cb->ck", z.conj(), r, z).real.clip(min=0.0)
        return rng.multinomial(g.sum(axis=1), per_output / per_output.sum(axis=1, keepdims=True))

    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        n = len(self.labels)
        out = np.zeros((copies, n), dtype=np.int64)
        lit = self._lit_copies(rng, copies)
        if lit:
            out[rng.choice(copies, size=lit, replace=False)] = self._lit_counts(rng, lit)
        if np.any(self.dark_counts > 0):
            out += rng.poisson(self.dark_counts, size=(copies, n))
        return (out > 0).astype(np.int64) if self.threshold else out

    def reduce(self, outcomes: np.ndarray) -> Statistics:
        return {"copies": np.int64(outcomes.shape[0]), "totals": outcomes.sum(axis=0, dtype=np.int64)}

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Exact totals over ``copies`` copies.

        Number-resolving outputs: with :math:`W` the complex Wishart sum of the copies'
        source amplitudes, the totals are independent Poisson with means
        :math:`\\mathrm{tr}(R_k W) + c\\,d_k` (cost independent of the number of copies).
        Threshold outputs: signal clicks of the lit copies (:meth:`_lit_counts`), then dark
        clicks among the copies that had no signal click in that output (binomial).
        """
        n = len(self.labels)
        if not self.threshold:
            r = self._responses()
            w = complex_wishart(rng, copies, r.shape[-1])
            means = np.einsum("kab,ba->k", r, w).real.clip(min=0.0) + copies * self.dark_counts
            return {"copies": np.int64(copies), "totals": rng.poisson(means).astype(np.int64)}
        clicks = np.zeros(n, dtype=np.int64)
        lit = self._lit_copies(rng, copies)
        chunk = chunk_size(n)
        for start in range(0, lit, chunk):  # cost grows with the lit copies only; memory is bounded
            clicks += (self._lit_counts(rng, min(chunk, lit - start)) > 0).sum(axis=0)
        dark = np.where(self.dark_counts > 0, rng.binomial(copies - clicks, -np.expm1(-self.dark_counts)), 0)
        return {"copies": np.int64(copies), "totals": clicks + dark}

    # -- likelihood --------------------------------------------------------------------------
    def log_likelihood(self, statistics: Statistics) -> np.ndarray:
        r"""Poisson (counts) or per-output binomial (clicks) log-likelihood of the totals.

        Counts: :math:`\sum_k T_k\log\mu_k - c\,\mu_k`. Clicks:
        :math:`\sum_k T_k\log p_k + (c - T_k)\log(1-p_k)`, a composite likelihood that
        ignores the weak (second-order in the light) correlations between outputs.
        """
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        mean = self.mean()
        with np.errstate(divide="ignore"):
            log_mean = np.where(mean > 0, np.log(np.where(mean > 0, mean, 1.0)), -1e300)
        if self.threshold:
            with np.errstate(divide="ignore"):
                log_miss = np.where(mean < 1, np.log1p(-np.where(mean < 1, mean, 0.0)), -1e300)
            ll = np.einsum("rk,gk->gr", totals, log_mean) + np.einsum("rk,gk->gr", copies[:, None] - totals, log_miss)
        else:
            ll = np.einsum("rk,gk->gr", totals, log_mean) - np.outer(mean.sum(axis=-1), copies)
        return np.nan_to_num(ll, nan=-np.inf)


class CountingSettings(DetectorSettings):
    """Fields shared by counting detectors."""

    pixel_type: PixelType = Field("number_resolving", description="number-resolving or threshold (click) outputs")
    dark_counts: float = Field(0.0, ge=0.0, le=1e3, description="mean dark counts per output per copy")


class CountingDetector(Detector):
    """A detector whose outputs count photons of classical image-plane light."""

    requires = frozenset({"image_plane", "classical"})

    def operators(self, modes) -> tuple[np.ndarray, list[str]]:
        """Output matrices :math:`M_k` in the basis ``modes`` and their labels."""
        raise NotImplementedError

    def outcome_model(self, light) -> ClassicalCountingModel:
        if isinstance(light, GaussianState):
            light = ThermalLight.from_state(light)
        cache = self.__dict__.setdefault("_operator_cache", {})
        if light.modes not in cache:  # the same basis for a whole sweep point: compute once
            cache[light.modes] = self.operators(light.modes)
        operators, labels = cache[light.modes]
        s = self.settings
        return ClassicalCountingModel(
            light.correlation, operators, s.efficiency, s.dark_counts, s.pixel_type == "threshold", labels
        )


class CameraSettings(CountingSettings):
    """Config of ``kind: camera``: a 1-D photon-counting pixel array."""

    kind: Literal["camera"] = "camera"
    pixel_pitch: float = Field(gt=0.0, description="pixel width, in the scene's length units")
    pixels: int | None = Field(None, ge=1, le=20000, description="number of pixels, centred on the optical axis")
    field_of_view: float | None = Field(
        None, gt=0.0, description="width covered by the pixels (alternative to `pixels`): pixels = ceil(field_of_view / pixel_pitch)"
    )

    @model_validator(mode="after")
    def _pixels_or_field_of_view(self):
        if (self.pixels is None) == (self.field_of_view is None):
            raise ValueError("give exactly one of pixels and field_of_view")
        if self.pixels is None:
            count = int(np.ceil(self.field_of_view / self.pixel_pitch - 1e-9))
            if count > 20000:
                raise ValueError(f"field_of_view / pixel_pitch = {count} pixels; at most 20000 are allowed")
            self.pixels = count
        return self


@register_detector("camera")
class Camera(CountingDetector):
    r"""Direct imaging: pixel k counts the photons landing in :math:`[e_k, e_{k+1})`.

    :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}}\phi_q\phi_r\,dx`. Photons outside the field of
    view are lost.
    """

    Settings = CameraSettings

    @classmethod
    def example(cls):
        scene = {"kind": "two_point", "separation": 0.8, "photons_per_copy": 0.6}
        return scene, {"kind": "camera", "name": "camera", "pixel_pitch": 0.8, "pixels": 5, "efficiency": 0.8, "dark_counts": 0.05}

    def operators(self, modes):
        s = self.settings
        edges = modes.center + s.pixel_pitch * (np.arange(s.pixels + 1) - s.pixels / 2)
        return modes.region_operators(edges), [f"pixel{k}" for k in range(s.pixels)]
