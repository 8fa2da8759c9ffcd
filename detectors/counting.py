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

import functools
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sensing.contracts.detector import Detector, DetectorSettings, OutcomeModel, Statistics, chunk_size
from sensing.contracts.states import GaussianState, ThermalLight

PixelType = Literal["number_resolving", "threshold"]


def complex_wishart(rng: np.random.Generator, dof: int, dim: int) -> np.ndarray:
    r"""Sample :math:`W = \sum_{c=1}^{dof} z_c z_c^\dagger`, :math:`z_c \sim \mathcal{CN}(0, I_{dim})`.

    Bartlett decomposition: :math:`W = AA^\dagger` with A lower triangular,
    :math:`|A_{jj}|^2 \sim \mathrm{Gamma}(dof - j, 1)` and :math:`A_{jk} \sim \mathcal{CN}(0,1)`
    below the diagonal. The cost does not depend on ``dof``.
    """
    return complex_wishart_block(rng, dof, dim, 1)[0]


_SQRT_HALF = 1 / np.sqrt(2)


@functools.lru_cache(maxsize=64)
def _wishart_indices(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the diagonal and of the strictly lower triangle of a dim x dim matrix
    (row by row, the order of ``np.tril_indices``)."""
    rows, cols = np.tril_indices(dim, -1)
    return np.arange(dim) * (dim + 1), rows * dim + cols


def complex_wishart_block(rng: np.random.Generator, dof: int, dim: int, count: int) -> np.ndarray:
    r"""``count`` independent draws of :func:`complex_wishart`, shape ``(count, dim, dim)``, in a
    few vectorised calls (``count = 1`` draws the same numbers as :func:`complex_wishart`)."""
    if dof == 0:
        return np.zeros((count, dim, dim), dtype=complex)
    if dof < dim:
        z = (rng.standard_normal((count, dof, dim)) + 1j * rng.standard_normal((count, dof, dim))) * _SQRT_HALF
        return np.swapaxes(z, -1, -2) @ np.conj(z)
    diagonal, low = _wishart_indices(dim)
    a = np.zeros((count, dim * dim), dtype=complex)
    a[:, diagonal] = np.sqrt(rng.gamma(dof - np.arange(dim), 1.0, size=(count, dim)))
    a[:, low] = (rng.standard_normal((count, low.size)) + 1j * rng.standard_normal((count, low.size))) * _SQRT_HALF
    a = a.reshape(count, dim, dim)
    return a @ np.conj(np.swapaxes(a, -1, -2))


#: Per-point elements of the intermediate arrays a batched contraction may hold at once
#: (bounds the memory of separable pixel grids whatever the batch of parameter points).
CONTRACTION_ELEMENTS = 1 << 22

#: Above this many number-resolving outputs the Fisher information is computed without the
#: dense n x n covariance (Woodbury identity on its low-rank thermal part).
DENSE_COVARIANCE_OUTPUTS = 2048
#: Above this many number-resolving outputs the Fisher information uses the Woodbury identity
#: (equal to the dense pseudo-inverse to rounding; the dense eigendecomposition of a 1600-pixel
#: covariance costs seconds).
WOODBURY_OUTPUTS = 256
#: Eigenvalues of a dense output operator below this fraction of its largest are dropped
#: (:meth:`DenseOutputs._eigenrows`).
EIGEN_RCOND = 1e-15


class DenseOutputs:
    r"""Output operators stored as dense matrices :math:`M_k`, shape ``(n, K, K)``.

    For small bases (the 1-D image plane): pixels of a 1-D camera.
    """

    def __init__(self, matrices: np.ndarray):
        self.matrices = np.asarray(matrices)

    @property
    def count(self) -> int:
        return self.matrices.shape[0]

    def traces(self, factor: np.ndarray) -> np.ndarray:
        r""":math:`\mathrm{tr}(L^\dagger M_k L) = \sum_{ij} (M_k)_{ij}\Gamma_{ij}`, shape ``(..., n)``."""
        k = factor.shape[-2]
        correlation = np.conj(factor) @ np.swapaxes(factor, -1, -2)  # Gamma = conj(L) L^T
        flat_ops = self.matrices.reshape(self.count, k * k)
        flat_corr = correlation.reshape(*correlation.shape[:-2], k * k)
        if np.iscomplexobj(flat_ops) or np.iscomplexobj(flat_corr):
            return (flat_corr @ flat_ops.T).real
        return flat_corr @ flat_ops.T

    def _eigenrows(self):
        r"""Each Hermitian :math:`M_k = \sum_q \lambda_{kq} v_{kq}v_{kq}^\dagger` as rows
        :math:`w_{kq} = \sqrt{|\lambda_{kq}|}\,v_{kq}^\dagger`, keeping the eigenvalues above
        ``EIGEN_RCOND`` of the output's largest: a pixel narrower than the PSF's structure has
        numerical rank of a few (5 of 28 for the shipped 1-D camera), so responses cost a
        fraction of the dense product. Dropped eigenvalues change a response by at most
        ``K * EIGEN_RCOND`` of its size (rounding level).

        Returns ``(rows, signs)``, shapes ``(n, q, K)`` and ``(n, q)``: every output padded
        with zero rows to the largest rank q; ``signs`` is None when every kept eigenvalue is
        positive (the :math:`M_k` of cameras and sorters are positive semi-definite).
        """
        if not hasattr(self, "_rows"):
            values, vectors = np.linalg.eigh(self.matrices)  # (n, K), (n, K, K), ascending
            scale = np.abs(values).max(axis=1, keepdims=True)
            keep = np.abs(values) > EIGEN_RCOND * np.where(scale > 0, scale, 1.0)
            rank = max(int(keep.sum(axis=1).max()), 1)
            order = np.argsort(~keep, axis=1, kind="stable")[:, :rank]  # the kept eigenvalues first
            picked = np.take_along_axis(values, order, axis=1) * np.take_along_axis(keep, order, axis=1)
            vecs = np.take_along_axis(vectors, order[:, None, :], axis=2)  # (n, K, q)
            rows = np.sqrt(np.abs(picked))[:, :, None] * np.conj(np.swapaxes(vecs, 1, 2))
            signs = None if np.all(picked >= 0) else np.sign(picked)
            self._rows = (rows, signs)
        return self._rows

    def responses(self, factor: np.ndarray) -> np.ndarray:
        r""":math:`L^\dagger M_k L = \sum_q s_{kq}(w_{kq}L)^\dagger(w_{kq}L)`, shape
        ``(..., n, r, r)``, from the eigen-rows of the :math:`M_k` (:meth:`_eigenrows`): one
        matrix product for all outputs and parameter points, then small ``(r, q) @ (q, r)``
        products.
        """
        rows, signs = self._eigenrows()
        n, q, k = rows.shape
        amplitude = (rows.reshape(n * q, k) @ factor).reshape(*factor.shape[:-2], n, q, factor.shape[-1])
        left = np.conj(amplitude) if signs is None else np.conj(amplitude) * signs[..., None]
        return np.swapaxes(left, -1, -2) @ amplitude

    def dense(self) -> np.ndarray:
        return self.matrices


class SorterOutputs:
    r"""Outputs of a mode sorter: rank-one projectors :math:`(M_q)_{ij} = \bar u_{qi}u_{qj}`
    (output q counts :math:`b_q^\dagger b_q`, :math:`b_q = \sum_j u_{qj}a_j`) for the rows of
    ``rows`` (m, K), plus optionally a bucket projecting on the basis modes in
    ``bucket`` (a boolean mask over K). Never forms K x K matrices.
    """

    def __init__(self, rows: np.ndarray, bucket: np.ndarray | None):
        self.rows = np.asarray(rows)
        self.bucket = None if bucket is None else np.asarray(bucket, dtype=bool)

    @property
    def count(self) -> int:
        return self.rows.shape[0] + (self.bucket is not None)

    def traces(self, factor: np.ndarray) -> np.ndarray:
        out = (np.abs(self.rows @ factor) ** 2).sum(axis=-1)
        if self.bucket is not None:
            rest = (np.abs(factor[..., self.bucket, :]) ** 2).sum(axis=(-1, -2))
            out = np.concatenate([out, rest[..., None]], axis=-1)
        return out

    def responses(self, factor: np.ndarray) -> np.ndarray:
        amplitude = self.rows @ factor  # (..., m, r): amplitude of each source in output q
        out = np.conj(amplitude)[..., :, None] * amplitude[..., None, :]
        if self.bucket is not None:
            rest = factor[..., self.bucket, :]
            bucket = np.swapaxes(np.conj(rest), -1, -2) @ rest
            out = np.concatenate([out, bucket[..., None, :, :]], axis=-3)
        return out

    def dense(self) -> np.ndarray:
        ops = np.einsum("qi,qj->qij", self.rows.conj(), self.rows)
        if self.bucket is not None:
            ops = np.concatenate([ops, np.diag(self.bucket.astype(float))[None]], axis=0)
        return ops


class SeparableOutputs:
    r"""Pixels of a 2-D grid in a product basis: :math:`M_{ij} = M^x_i \otimes M^y_j`.

    Pixel (i, j) is output ``i * len(y_matrices) + j``. The basis modes are the product
    modes :math:`(q_x, q_y)` listed in ``orders`` (a subset of the Kx x Ky grid, e.g. a
    total-order truncation). Contractions reshape L to (Kx, Ky, r) and apply :math:`M^x` and
    :math:`M^y` in turn, so no per-pixel K x K matrix is ever formed; batches of parameter
    points are processed in chunks of bounded size (:data:`CONTRACTION_ELEMENTS`).
    """

    def __init__(self, x_matrices: np.ndarray, y_matrices: np.ndarray, orders: tuple[np.ndarray, np.ndarray]):
        self.x_matrices = np.asarray(x_matrices)  # (Px, Kx, Kx)
        self.y_matrices = np.asarray(y_matrices)  # (Py, Ky, Ky)
        self.orders = orders

    @property
    def count(self) -> int:
        return self.x_matrices.shape[0] * self.y_matrices.shape[0]

    def _x_contracted(self, factor: np.ndarray, same_source: bool = False) -> np.ndarray:
        r""":math:`X_i[s, t, b, b'] = \sum_{a,a'} \bar L_{ab s} (M^x_i)_{aa'} L_{a'b't}` for a flat
        batch of factors ``(batch, K, r)``: shape ``(batch, Px, r, r, Ky, Ky)``, or with
        ``same_source`` only :math:`\sum_s X_i[s, s]`, shape ``(batch, Px, 1, Ky, Ky)`` (for means).

        With the eigen-rows :math:`M^x_i = \sum_q s_{iq} w_{iq}^\dagger w_{iq}` (a pixel's
        numerical rank q is a few, :meth:`DenseOutputs._eigenrows`), :math:`Z_{iqs} = w_{iq}L_s`
        (one matrix product for every pixel column, source and parameter point) and
        :math:`X_i[s, t] = \sum_q s_{iq} Z_{iqs}^\dagger Z_{iqt}`.
        """
        batch, kx, ky, r = factor.shape[0], self.x_matrices.shape[1], self.y_matrices.shape[-1], factor.shape[-1]
        grid = np.zeros((kx, batch, r, ky), dtype=factor.dtype)
        grid[self.orders[0], :, :, self.orders[1]] = np.moveaxis(factor, 1, 0)
        rows, signs = self._x_rows()  # (Px, q, Kx)
        px, q, _ = rows.shape
        z = (rows.reshape(px * q, kx) @ grid.reshape(kx, -1)).reshape(px, q, batch, r, ky)
        z = z.transpose(2, 0, 1, 3, 4)  # (batch, Px, q, r, Ky)
        left = np.conj(z) if signs is None else np.conj(z) * signs[None, :, :, None, None]
        if same_source:  # sum over sources and rows at once: (Ky, q r) @ (q r, Ky)
            stacked = z.reshape(batch, px, q * r, ky)
            return (np.swapaxes(left.reshape(batch, px, q * r, ky), -1, -2) @ stacked)[:, :, None]
        wide = z.reshape(batch, px, q, r * ky)  # every (s, t) block of X_i in one (r Ky, q) @ (q, r Ky)
        full = np.swapaxes(left.reshape(batch, px, q, r * ky), -1, -2) @ wide  # (batch, Px, r Ky, r Ky)
        return full.reshape(batch, px, r, ky, r, ky).transpose(0, 1, 2, 4, 3, 5)

    def _x_rows(self):
        if not hasattr(self, "_rows"):
            self._rows = DenseOutputs(self.x_matrices)._eigenrows()
        return self._rows

    def _batched(self, factor: np.ndarray, per_chunk) -> np.ndarray:
        """Apply ``per_chunk`` to chunks of the flattened batch of factors and restore the batch shape."""
        batch_shape, (k, r) = factor.shape[:-2], factor.shape[-2:]
        flat = factor.reshape(-1, k, r)
        px, kx, _ = self.x_matrices.shape
        py, ky, _ = self.y_matrices.shape
        per_point = r * px * max(kx * ky, r * ky * ky, py * r)  # the largest intermediate of one point
        chunk = max(1, CONTRACTION_ELEMENTS // per_point)
        parts = [per_chunk(flat[i:i + chunk]) for i in range(0, flat.shape[0], chunk)]
        out = np.concatenate(parts, axis=0) if parts else per_chunk(flat)
        return out.reshape(*batch_shape, *out.shape[1:])

    def _y_contracted(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\sum_{b,b'} (M^y_j)_{bb'} X_i[b, \ldots, b', \ldots]` as one matrix product;
        ``x`` has shape ``(batch, Px, m, Ky, Ky)``, the result ``(batch, Px * Py, m)``."""
        batch, px, m, ky, _ = x.shape
        py = self.y_matrices.shape[0]
        flat = x.reshape(batch * px * m, ky * ky) @ self.y_matrices.reshape(py, ky * ky).T  # (batch Px m, Py)
        return np.swapaxes(flat.reshape(batch, px, m, py), -1, -2).reshape(batch, px * py, m)

    def traces(self, factor: np.ndarray) -> np.ndarray:
        return self._batched(factor, lambda f: self._y_contracted(self._x_contracted(f, same_source=True))[..., 0].real)

    def responses(self, factor: np.ndarray) -> np.ndarray:
        def chunk(f):
            x = self._x_contracted(f)
            n, px, r = x.shape[:3]
            return self._y_contracted(x.reshape(n, px, r * r, *x.shape[-2:])).reshape(n, -1, r, r)

        return self._batched(factor, chunk)

    def dense(self) -> np.ndarray:
        """The (n, K, K) matrices :math:`(M_{ij})_{kl} = (M^x_i)_{q_{xk}q_{xl}}(M^y_j)_{q_{yk}q_{yl}}`: only for small grids (tests)."""
        qx, qy = self.orders
        along_x = self.x_matrices[:, qx[:, None], qx[None, :]]
        along_y = self.y_matrices[:, qy[:, None], qy[None, :]]
        return (along_x[:, None] * along_y[None]).reshape(self.count, len(qx), len(qx))


class ClassicalCountingModel(OutcomeModel):
    r"""Exact outcome model of photon counting (``counts``) or clicks (``clicks``) on classical light.

    Parameters
    ----------
    factor : ndarray, shape ``(..., K, r)``
        :math:`L` with :math:`\Gamma^T = LL^\dagger` (see :class:`~sensing.contracts.states.ThermalLight`),
        possibly batched over parameter points.
    outputs : DenseOutputs, SorterOutputs or SeparableOutputs
        The operators :math:`M_k` of the outputs in the same mode basis.
    efficiency : float
    dark_counts : ndarray, shape ``(n,)``
        Mean dark counts per output per copy.
    threshold : bool
        Click detectors instead of number-resolving ones.
    labels : list of str
    """

    def __init__(self, factor, outputs, efficiency, dark_counts, threshold, labels):
        self.factor = np.asarray(factor)
        self.outputs = outputs
        self.efficiency = float(efficiency)
        self.dark_counts = np.broadcast_to(np.asarray(dark_counts, dtype=float), (outputs.count,)).copy()
        self.threshold = bool(threshold)
        self.labels = list(labels)
        self.family = "clicks" if self.threshold else "counts"

    # -- moments ----------------------------------------------------------------------
    def _batched_responses(self) -> np.ndarray:
        r""":math:`R_k = \eta L^\dagger M_k L` (Hermitised), shape ``(..., n, r, r)``."""
        r = self.outputs.responses(self.factor)
        return self.efficiency * 0.5 * (r + np.conj(np.swapaxes(r, -1, -2)))

    def _responses(self) -> np.ndarray:
        r""":math:`R_k = \eta L^\dagger M_k L` (unbatched), shape ``(n, r, r)``."""
        if self.factor.ndim != 2:
            raise ValueError("sampling and covariances need one parameter point, not a batch")
        if not hasattr(self, "_cached_responses"):
            self._cached_responses = self._batched_responses()
        return self._cached_responses

    def signal_mean(self) -> np.ndarray:
        """Mean detected signal photons per output per copy, shape ``(..., n)``."""
        return self.efficiency * self.outputs.traces(self.factor)

    def _no_click(self) -> np.ndarray:
        r""":math:`P(\text{no click}_k) = e^{-d_k}/\det(I + R_k)` (Sylvester: r x r determinants), batched."""
        r = self._batched_responses()
        det = np.linalg.det(np.eye(r.shape[-1]) + r).real
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

    def fisher_contribution(self, mean_derivatives: np.ndarray, covariance_derivatives: np.ndarray | None) -> np.ndarray:
        r"""Fisher information per copy :math:`J = \partial\mu^T C^{-1}\partial\mu` (see the base class).

        Number-resolving outputs with more than :data:`WOODBURY_OUTPUTS` outputs (2-D
        cameras) never form the n x n covariance: :math:`C = D + BB^T` with
        :math:`D = \mathrm{diag}(E n_k)` and :math:`B_k = (\mathrm{Re}\,\mathrm{vec}R_k,
        \mathrm{Im}\,\mathrm{vec}R_k)` (since :math:`\mathrm{tr}R_kR_l = \mathrm{Re}\,
        \mathrm{vec}R_k\cdot\overline{\mathrm{vec}R_l}`), and the Woodbury identity gives
        :math:`J = G^TD^{-1}G - (B^TD^{-1}G)^T(I + B^TD^{-1}B)^{-1}(B^TD^{-1}G)`,
        :math:`G = \partial\mu^T`. Outputs with zero mean carry no light and are dropped.
        """
        if self.threshold or len(self.labels) <= WOODBURY_OUTPUTS:
            return super().fisher_contribution(mean_derivatives, covariance_derivatives)
        mean = self.mean()
        keep = mean > 0
        r = self._responses()[keep]
        low_rank = np.concatenate([r.real.reshape(len(r), -1), r.imag.reshape(len(r), -1)], axis=1)  # B
        g = mean_derivatives[:, keep].T
        weighted_g, weighted_b = g / mean[keep, None], low_rank / mean[keep, None]
        inner = np.eye(low_rank.shape[1]) + low_rank.T @ weighted_b
        projected = low_rank.T @ weighted_g
        return g.T @ weighted_g - projected.T @ np.linalg.solve(inner, projected)

    # -- sampling -------------------------------------------------------------------------
    def _eigenmodes(self):
        """Thermal eigenmodes of the total detected light: eigenvalues and vectors of sum_k R_k."""
        r = self._responses()
        lam, u = np.linalg.eigh(r.sum(axis=0))
        live = lam > 0
        return r, lam[live], u[:, live]

    def draws_per_copy(self) -> float:
        """Number-resolving totals cost nothing per copy (Wishart + Poisson); threshold clicks
        cost about ``outputs + modes`` draws per lit copy (:meth:`_lit_counts`)."""
        if not self.threshold:
            return 0.0
        r, lam, _ = self._eigenmodes()
        lit = -np.expm1(-np.log1p(lam).sum()) if lam.size else 0.0
        return float(lit * (len(self.labels) + 2 * lam.size + 1))

    def _lit_copies(self, rng: np.random.Generator, copies: int) -> int:
        """Number of copies with at least one detected signal photon (binomial)."""
        _, lam, _ = self._eigenmodes()
        return int(rng.binomial(copies, -np.expm1(-np.log1p(lam).sum()))) if lam.size else 0

    def _lit_counts(self, rng: np.random.Generator, lit: int) -> np.ndarray:
        r"""Exact signal counts per output of ``lit`` copies, each conditioned on >= 1 photon.

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

    @property
    def sample_block(self):
        """Number-resolving outputs: :meth:`sample_totals_block` (blocks of repetitions in one
        call); threshold outputs: None (their sampler's cost grows with the lit copies)."""
        return None if self.threshold else self.sample_totals_block

    def sample_totals_block(self, rng: np.random.Generator, copies: int, repetitions: int) -> Statistics:
        """:meth:`sample_statistics` of number-resolving outputs for ``repetitions`` independent
        repetitions at once: complex Wishart matrices of the copies' source amplitudes, then
        Poisson totals with means :math:`\mathrm{tr}(R_kW) + c\,d_k`; shapes ``(repetitions,)``
        and ``(repetitions, n)``."""
        r = self._responses()
        w = complex_wishart_block(rng, copies, r.shape[-1], repetitions)
        means = np.einsum("kab,rba->rk", r, w).real.clip(min=0.0) + copies * self.dark_counts
        return {"copies": np.full(repetitions, copies, dtype=np.int64), "totals": rng.poisson(means).astype(np.int64)}

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Exact totals over ``copies`` copies.

        Number-resolving outputs: with :math:`W` the complex Wishart sum of the copies'
        source amplitudes, the totals are independent Poisson with means
        :math:`\\mathrm{tr}(R_k W) + c\\,d_k` (cost independent of the number of copies).
        Threshold outputs: signal clicks of the lit copies (:meth:`_lit_counts`), then dark
        clicks among the copies that had no signal click in that output (binomial).
        """
        n = len(self.labels)
        if not self.threshold:  # one repetition of the block sampler: the same draws
            return {"copies": np.int64(copies), "totals": self.sample_totals_block(rng, copies, 1)["totals"][0]}
        clicks = np.zeros(n, dtype=np.int64)
        lit = self._lit_copies(rng, copies)
        chunk = chunk_size(n)
        for start in range(0, lit, chunk):  # cost grows with the lit copies only; memory is bounded
            clicks += (self._lit_counts(rng, min(chunk, lit - start)) > 0).sum(axis=0)
        dark = np.where(self.dark_counts > 0, rng.binomial(copies - clicks, -np.expm1(-self.dark_counts)), 0)
        return {"copies": np.int64(copies), "totals": clicks + dark}

    # -- likelihood --------------------------------------------------------------------------
    def _low_rank_covariance(self):
        r"""Per-copy covariance of number-resolving counts as :math:`C = \mathrm{diag}(D) + BB^T`, batched.

        :math:`D_k = E[n_k]` and :math:`B_k = (\mathrm{Re}\,\mathrm{vec}R_k, \mathrm{Im}\,\mathrm{vec}R_k)`,
        since :math:`\mathrm{tr}(R_kR_l) = \mathrm{Re}\,\mathrm{vec}R_k\cdot\overline{\mathrm{vec}R_l}`
        (the thermal bunching term). Shapes ``(..., n)`` and ``(..., n, 2r^2)``.
        """
        r = self._batched_responses()
        flat = r.reshape(*r.shape[:-2], -1)
        return self.mean(), np.concatenate([flat.real, flat.imag], axis=-1)

    def _dense_click_covariance(self) -> np.ndarray:
        """Exact per-copy covariance of the clicks, batched: shape ``(..., n, n)``."""
        r = self._batched_responses()
        batch = r.shape[:-3]
        flat = r.reshape(-1, *r.shape[-3:])
        out = np.empty((flat.shape[0], flat.shape[1], flat.shape[1]))
        eye = np.eye(flat.shape[-1])
        for i, responses in enumerate(flat):
            none_k = np.exp(-self.dark_counts) / np.linalg.det(eye + responses).real
            pair = eye + responses[:, None] + responses[None, :]
            none_kl = np.exp(-self.dark_counts[:, None] - self.dark_counts[None, :]) / np.linalg.det(pair).real
            cov = none_kl - np.outer(none_k, none_k)
            np.fill_diagonal(cov, none_k * (1 - none_k))
            out[i] = cov
        return out.reshape(*batch, *out.shape[-2:])

    def _covariance_operator(self):
        r"""``(solve, logdet, live)``: :math:`v\mapsto C^{-1}v` for ``v`` of shape ``(..., n, q)``
        (batch dims of the model first), :math:`\log\det C` over the outputs that can fire, and
        the mask of those outputs (zero variance: no light and no dark counts; such an output
        never fires and is left out).

        Counts: Woodbury identity on :math:`C = D + BB^T` (never an n x n matrix, so 2-D cameras
        with many pixels stay cheap). Clicks: the dense exact covariance.
        """
        if not self.threshold:
            diagonal, low_rank = self._low_rank_covariance()
            live = diagonal > 0
            safe = np.where(live, diagonal, 1.0)
            low_rank = low_rank * live[..., None]
            weighted = low_rank / safe[..., None]
            inner = np.eye(low_rank.shape[-1]) + np.swapaxes(low_rank, -1, -2) @ weighted
            _, inner_logdet = np.linalg.slogdet(inner)
            logdet = np.where(live, np.log(safe), 0.0).sum(-1) + inner_logdet

            def solve(v):
                v = v * live[..., None]
                first = v / safe[..., None]
                correction = weighted @ np.linalg.solve(inner, np.swapaxes(weighted, -1, -2) @ v)
                return (first - correction) * live[..., None]

            return solve, logdet, live
        cov = self._dense_click_covariance()
        live = np.diagonal(cov, axis1=-2, axis2=-1) > 0
        mask = live[..., :, None] & live[..., None, :]
        eye = np.eye(cov.shape[-1])
        regular = np.where(mask, cov, eye)  # dead outputs: unit variance, zero residual
        _, logdet = np.linalg.slogdet(regular)

        def solve(v):
            return np.linalg.solve(regular, v * live[..., None]) * live[..., None]

        return solve, logdet, live

    def log_likelihood(self, statistics: Statistics, paired: bool = False) -> np.ndarray:
        r"""Gaussian log-likelihood of the totals with the exact per-copy mean and covariance.

        Over c copies the totals T are asymptotically normal (central limit theorem),
        :math:`T\sim N(c\mu, cC)`, with the exact per-copy mean :math:`\mu` and covariance
        :math:`C` (:meth:`covariance`: Poisson term plus the thermal bunching
        :math:`\mathrm{tr}(R_kR_l)` for counts; the exact click covariance for clicks):

        .. math:: \ell(\theta) = -\tfrac{1}{2c}(T - c\mu)^T C^{-1}(T - c\mu) - \tfrac12\log\det C

        (up to a constant). This is the likelihood consistent with the reported Fisher
        information :math:`\partial\mu^TC^{-1}\partial\mu` per copy; the Poisson likelihood used
        before ignored the bunching term and, at 20 photons per copy, its estimates reached
        only 0.4-0.5 of the bound. An output that cannot fire (zero mean) but has fired gives
        :math:`-\infty`.

        Parameters
        ----------
        statistics : dict
            ``copies`` (R,) and ``totals`` (R, n) of R repetitions.
        paired : bool, optional
            The model is batched over R parameter points, one per repetition: return the
            log-likelihood of repetition r at point r, shape ``(R,)``. Otherwise the model
            is batched over G points (or unbatched, G = 1) and the result is ``(G, R)``.

        Returns
        -------
        ndarray, shape ``(G, R)`` or ``(R,)``
        """
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        solve, logdet, live = self._covariance_operator()
        mean = self.mean()
        if paired:
            residual = (totals - copies[:, None] * mean)[..., None]  # (R, n, 1)
            quadratic = (residual * solve(residual)).sum(axis=(-1, -2)) / copies
            impossible = np.any(~live & (totals > 0), axis=-1)
            ll = -0.5 * quadratic - 0.5 * logdet
        else:
            batched = mean.ndim > 1
            mean = np.atleast_2d(mean)
            logdet, live = np.atleast_1d(logdet), np.atleast_2d(live)
            residual = np.swapaxes(totals[None] - copies[None, :, None] * mean[:, None, :], -1, -2)  # (G, n, R)
            solved = solve(residual) if batched else solve(residual[0])[None]
            quadratic = (residual * solved).sum(-2) / copies[None, :]  # (G, R)
            impossible = np.any(~live[:, None, :] & (totals[None] > 0), axis=-1)
            ll = -0.5 * quadratic - 0.5 * logdet[:, None]
        return np.where(impossible, -np.inf, np.nan_to_num(ll, nan=-np.inf))

    def locating_log_likelihood(self, statistics: Statistics, paired: bool = False) -> np.ndarray:
        r"""A cheap criterion that only locates the maximum (the estimator refines it with
        :meth:`score`): the Poisson (counts) or per-output binomial (clicks) log-likelihood,
        which needs the means only, not the responses of every output.

        Its maximiser is a consistent estimate (its score is unbiased), so Fisher scoring on the
        exact score started there converges to the root of the exact score. Shapes as
        :meth:`log_likelihood`.
        """
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        mean = self.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_mean = np.where(mean > 0, np.log(np.where(mean > 0, mean, 1.0)), -1e300)
            if self.threshold:
                log_miss = np.where(mean < 1, np.log1p(-np.where(mean < 1, mean, 0.0)), -1e300)
        if paired:
            ll = (totals * log_mean).sum(-1)
            ll = ll + ((copies[:, None] - totals) * log_miss).sum(-1) if self.threshold else ll - copies * mean.sum(-1)
        else:
            mean2, log_mean = np.atleast_2d(mean), np.atleast_2d(log_mean)
            ll = np.einsum("rk,gk->gr", totals, log_mean)
            if self.threshold:
                ll = ll + np.einsum("rk,gk->gr", copies[:, None] - totals, np.atleast_2d(log_miss))
            else:
                ll = ll - np.outer(mean2.sum(axis=-1), copies)
        return np.nan_to_num(ll, nan=-np.inf)

    def score(self, statistics: Statistics, mean_derivatives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Quasi-score and expected information of the totals, paired (repetition r at point r).

        .. math::
            U(\theta) = \partial\mu^T C^{-1}(T - c\mu), \qquad
            \mathcal I(\theta) = c\,\partial\mu^T C^{-1}\partial\mu ,

        the estimating equation of the Gaussian likelihood (:meth:`log_likelihood`) with the
        covariance held at :math:`\theta` (its derivative contributes O(1), against O(c) here).
        Its root is consistent, and its variance is :math:`\mathcal I^{-1}` to leading order:
        the estimator attains the reported Cramer-Rao bound. In the weak-light limit
        (:math:`C\to\mathrm{diag}\,\mu`) it is the Poisson score; for clicks it generalises the
        per-output binomial score by the correlations between outputs.

        Parameters
        ----------
        statistics : dict
            ``copies`` (R,) and ``totals`` (R, n).
        mean_derivatives : ndarray, shape ``(R, p, n)``
            :math:`\partial_i\mu` at each repetition's parameter point (the model is batched
            over those R points).

        Returns
        -------
        score : ndarray, shape ``(R, p)``
        information : ndarray, shape ``(R, p, p)``
        """
        totals = np.asarray(statistics["totals"], dtype=float)
        copies = np.asarray(statistics["copies"], dtype=float)
        solve, _, _ = self._covariance_operator()
        residual = totals - copies[:, None] * self.mean()
        solved = solve(np.swapaxes(mean_derivatives, -1, -2))  # (R, n, p): C^-1 dmu
        score = np.einsum("rnp,rn->rp", solved, residual)
        information = copies[:, None, None] * (mean_derivatives @ solved)
        return score, 0.5 * (information + np.swapaxes(information, -1, -2))

    def score_coefficients(self, mean_derivatives: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""The quasi-score as a linear function of the totals, at each parameter point of the batch.

        :meth:`score` is :math:`U(\theta) = a(\theta)\cdot T - c\,b(\theta)` with
        :math:`a = C^{-1}\partial\mu` and :math:`b = a\cdot\mu`, and its information is
        :math:`c\,\partial\mu^T a`. Tabulating ``a`` and ``b`` once on a grid of parameter
        points gives U for every repetition and copy count by one matrix product
        (:func:`sensing.analyzers.estimation.maximum_likelihood`).

        Parameters
        ----------
        mean_derivatives : ndarray, shape ``(G, p, n)``
            :math:`\partial_i\mu` at each of the model's G parameter points.

        Returns
        -------
        a : ndarray, shape ``(G, p, n)``
        b : ndarray, shape ``(G, p)``
        information : ndarray, shape ``(G, p, p)``
            Per copy.
        """
        solve, _, _ = self._covariance_operator()
        a = np.swapaxes(solve(np.swapaxes(mean_derivatives, -1, -2)), -1, -2)  # (G, p, n)
        b = np.einsum("gpn,gn->gp", a, self.mean())
        information = mean_derivatives @ np.swapaxes(a, -1, -2)
        return a, b, 0.5 * (information + np.swapaxes(information, -1, -2))


class CountingSettings(DetectorSettings):
    """Fields shared by counting detectors."""

    pixel_type: PixelType = Field("number_resolving", description="number-resolving or threshold (click) outputs")
    dark_counts: float = Field(0.0, ge=0.0, le=1e3, description="mean dark counts per output per copy")


class CountingDetector(Detector):
    """A detector whose outputs count photons of classical image-plane light."""

    accepts = ThermalLight
    capabilities = frozenset({"likelihood"})

    def operators(self, modes) -> tuple[DenseOutputs | SorterOutputs | SeparableOutputs, list[str]]:
        """Output operators :math:`M_k` in the basis ``modes`` (1-D or 2-D) and their labels."""
        raise NotImplementedError

    @classmethod
    def examples(cls) -> list[tuple[dict, dict]]:
        """The 1-D example and the same detector on a rotated 2-D image plane."""
        scene, detector = cls.example()
        return [(scene, detector), ({**scene, "dimensions": 2, "orientation": 0.6, "basis_modes": 10}, detector)]

    def output_labels(self, state) -> list[str]:
        return self.operators(state.modes)[1]

    def outcome_model(self, light) -> ClassicalCountingModel:
        if isinstance(light, GaussianState):
            light = ThermalLight.from_state(light)
        cache = self.__dict__.setdefault("_operator_cache", {})
        if light.modes not in cache:  # the same basis for a whole sweep point: compute once
            cache[light.modes] = self.operators(light.modes)
        operators, labels = cache[light.modes]
        s = self.settings
        return ClassicalCountingModel(
            light.factor, operators, s.efficiency, s.dark_counts, s.pixel_type == "threshold", labels
        )


#: Most pixels a 2-D camera may have (pixels per axis squared).
MAX_PIXELS_2D = 250_000
#: Most pixels of a 2-D camera on a non-separable (non-Gaussian PSF) basis: dense K x K matrix per pixel.
MAX_DENSE_PIXELS_2D = 4096


class CameraSettings(CountingSettings):
    """Config of ``kind: camera``: a photon-counting pixel array (a row of pixels on a 1-D
    image plane, a square grid of ``pixels`` x ``pixels`` on a 2-D one)."""

    kind: Literal["camera"] = "camera"
    pixel_pitch: float = Field(gt=0.0, description="pixel width, in the scene's length units")
    pixels: int | None = Field(
        None, ge=1, le=20000, description="number of pixels (per axis on a 2-D image plane), centred on the optical axis"
    )
    field_of_view: float | None = Field(
        None, gt=0.0,
        description="width covered by the pixels (per axis in 2-D; alternative to `pixels`): pixels = ceil(field_of_view / pixel_pitch)",
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


class Camera(CountingDetector):
    r"""Direct imaging: pixel k counts the photons landing in :math:`[e_k, e_{k+1})`.

    :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}}\phi_q\phi_r\,dx`. Photons outside the field of
    view are lost. Any PSF: the matrices are integrals of the scene's basis functions (Hermite-Gauss
    or PSF-adapted). On a 2-D image plane the pixels form a square grid centred on the axis; for a
    non-Gaussian PSF each pixel's matrix is a 2-D quadrature of the PSF-adapted modes
    (:meth:`~sensing.physics.pupil_modes.ApertureModes2D.pixel_operators`, dense). For the Gaussian,
    pixel (i, j) is separable in the product basis:
    :math:`M_{ij} = M^x_i\otimes M^y_j` with the 1-D interval matrices
    (:class:`SeparableOutputs`, never formed as K x K matrices).
    """

    kind = "camera"

    Settings = CameraSettings

    @classmethod
    def example(cls):
        scene = {"kind": "two_point", "separation": 0.8, "photons_per_copy": 0.6}
        return scene, {"kind": "camera", "name": "camera", "pixel_pitch": 0.8, "pixels": 5, "efficiency": 0.8, "dark_counts": 0.05}

    @classmethod
    def examples(cls):
        """1-D and 2-D Gaussian PSFs, and a 1-D and 2-D Airy PSF (PSF-adapted basis)."""
        scene, detector = cls.example()
        airy = {**scene, "psf": {"kind": "airy", "width": 2.0, "obscuration": 0.3}}
        return super().examples() + [(airy, detector), ({**airy, "dimensions": 2, "orientation": 0.6}, detector)]

    def operators(self, modes):
        s = self.settings
        if modes.dimensions == 1:
            edges = modes.center + s.pixel_pitch * (np.arange(s.pixels + 1) - s.pixels / 2)
            return DenseOutputs(modes.region_operators(edges)), [f"pixel{k}" for k in range(s.pixels)]
        if s.pixels**2 > MAX_PIXELS_2D:
            raise ValueError(
                f"detector {s.name!r}: {s.pixels} x {s.pixels} pixels on a 2-D image plane; at most "
                f"{MAX_PIXELS_2D} pixels in all are allowed: use a coarser pixel_pitch or a smaller field of view"
            )
        if s.pixel_type == "threshold" and s.pixels**2 > DENSE_COVARIANCE_OUTPUTS:
            raise ValueError(
                f"detector {s.name!r}: {s.pixels} x {s.pixels} threshold pixels; the click covariance is dense, so a "
                f"2-D threshold camera may have at most {DENSE_COVARIANCE_OUTPUTS} pixels (number_resolving has no such limit)"
            )
        edges = s.pixel_pitch * (np.arange(s.pixels + 1) - s.pixels / 2)
        labels = [f"pixel{i}_{j}" for i in range(s.pixels) for j in range(s.pixels)]
        if not hasattr(modes, "orders"):  # a non-separable basis (PSF-adapted modes of any pupil): dense pixel matrices
            if s.pixels**2 > MAX_DENSE_PIXELS_2D:
                raise ValueError(
                    f"detector {s.name!r}: {s.pixels} x {s.pixels} pixels on a non-Gaussian 2-D PSF; at most "
                    f"{MAX_DENSE_PIXELS_2D} pixels in all are allowed there: use a coarser pixel_pitch or a smaller field of view"
                )
            return DenseOutputs(modes.pixel_operators(edges, edges)), labels
        along_axis = modes.axis.region_operators(edges)
        return SeparableOutputs(along_axis, along_axis, modes.orders), labels
