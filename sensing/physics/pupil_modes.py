r"""PSF-adapted mode bases of a 2-D pupil, for point sources on one axis of the image plane.

Sources displaced along a unit vector :math:`e_\theta` of the image plane have amplitudes
:math:`\psi(\mathbf r - X e_\theta)`, i.e. pupil amplitudes :math:`\tilde\psi(\mathbf k)e^{-ik_\parallel X}`
with :math:`k_\parallel = \mathbf k\cdot e_\theta`. They all lie in the span of
:math:`p(k_\parallel)\tilde\psi(\mathbf k)`, and the PSF-adapted modes (Rehacek et al., Opt. Lett. 42,
231 (2017); :class:`~sensing.physics.psf.PsfAdaptedModes`) of the :math:`k_\parallel` marginal of
:math:`|\tilde\psi|^2` are, in 2-D,

.. math:: \phi_q(\mathbf r) = \int (-i)^q p_q(k_\parallel)\,\tilde\psi(\mathbf k)\,e^{i\mathbf k\cdot\mathbf r}
          \frac{d^2k}{(2\pi)^2},

orthonormal in the plane, with overlaps :math:`\langle\phi_q|\psi_{Xe_\theta}\rangle` equal to those of
the 1-D marginal PSF (module docstring of :mod:`sensing.physics.psf`). The 2-D functions are needed
only for measurements that are not sorters of these modes: camera pixels and a mismatched
Hermite-Gauss sorter.

Two pupils: a circular/annular aperture (the k_y integral of each chord is closed form, so the 2-D
function is a 1-D sum over the chord quadrature of :func:`~sensing.physics.psf.aperture_marginal_psf`),
and a sampled PSF (its discrete spectrum on the FFT grid; separable sums).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from scipy.special import roots_legendre

from sensing.physics.psf import PsfAdaptedModes, PupilPSF, SampledPSF, aperture_marginal_psf

__all__ = ["ApertureModes2D", "SampledModes2D", "adapted_basis_size", "pixel_operators_2d", "hermite_gauss_overlaps",
           "matched_gaussian_width"]


def adapted_basis_size(psf: PupilPSF, reach: float, tail: float = 1e-11, limit: int = 60, start: int = 8) -> int:
    r"""Smallest PSF-adapted basis holding the PSF shifted by up to ``reach`` to ``tail``.

    :math:`1-\sum_{q<n}|\langle\phi_q|\psi_X\rangle|^2 \le` ``tail`` at X = ±reach.

    Raises
    ------
    ValueError
        If more than ``limit`` modes would be needed.
    """
    modes = PsfAdaptedModes(psf, limit)
    weights = np.abs(modes.point_source_amplitudes(np.array([-reach, reach]))) ** 2  # (2, limit)
    missing = 1.0 - np.cumsum(weights, axis=-1)
    fits = np.flatnonzero(np.all(missing <= tail, axis=0))
    if fits.size == 0:
        raise ValueError(f"the sources reach {reach:.3g} off axis, {reach / psf.width:.3g} PSF widths: a PSF-adapted basis "
                         f"would need more than {limit} modes; keep the sources within ~3 PSF widths of the axis")
    return max(int(fits[0]) + 1, start)


def pixel_operators_2d(grid_functions, count: int, x_edges: np.ndarray, y_edges: np.ndarray, nodes: int = 6) -> np.ndarray:
    r"""Pixel matrices :math:`(M_{ij})_{qr} = \int_{pixel\ ij}\phi_q^*\phi_r\,d^2r` of a grid of pixels.

    ``grid_functions(xs, ys)`` returns the modes on the tensor grid, shape ``(count, len(ys), len(xs))``;
    Gauss-Legendre with ``nodes`` points per pixel and axis. Pixel (i, j) (x index i, y index j) is
    row ``i * (len(y_edges) - 1) + j``.

    Returns
    -------
    ndarray, shape ``(Px * Py, count, count)``
    """
    t, w = roots_legendre(nodes)

    def axis(edges):
        lo, hi = edges[:-1, None], edges[1:, None]
        return (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel(), (0.5 * (hi - lo) * w)

    xs, wx = axis(np.asarray(x_edges, dtype=float))
    ys, wy = axis(np.asarray(y_edges, dtype=float))
    px, py = wx.shape[0], wy.shape[0]
    phi = grid_functions(xs, ys).reshape(count, py, nodes, px, nodes)
    weighted = phi * np.sqrt(wy[None, :, :, None, None] * wx.reshape(1, 1, 1, px, nodes))  # sqrt of the weights
    weighted = weighted.transpose(3, 1, 0, 2, 4).reshape(px * py, count, nodes * nodes)  # (pixel (i, j), q, node)
    return np.conj(weighted) @ np.swapaxes(weighted, -1, -2)


class _AxisModes2D:
    """Shared interface: the 1-D basis ``along`` (k_parallel marginal) and the axis angle."""

    dimensions: ClassVar[int] = 2
    center: ClassVar[float] = 0.0

    @property
    def count(self) -> int:
        return self.along.count

    @property
    def width(self) -> float:
        return self.along.psf.width

    @property
    def psf(self) -> PupilPSF:
        """The 1-D marginal PSF along the separation axis (exact for sorters and the quantum limit)."""
        return self.along.psf

    def labels(self, count: int) -> list[str]:
        return self.along.labels(count)

    def neighbour_pairs(self, count: int) -> list[tuple[int, int]]:
        return self.along.neighbour_pairs(count)

    def _axial(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=float)
        return positions[..., 0] * np.cos(self.orientation) + positions[..., 1] * np.sin(self.orientation)

    def point_source_amplitudes(self, positions: np.ndarray) -> np.ndarray:
        r"""Overlaps with the PSF at 2-D ``positions`` (shape ``(..., 2)``), which must lie on the axis."""
        return self.along.point_source_amplitudes(self._axial(positions))

    def basis_error(self, positions: np.ndarray) -> np.ndarray:
        return self.along.basis_error(self._axial(positions))

    def pixel_operators(self, x_edges, y_edges, nodes: int = 6) -> np.ndarray:
        """Camera pixel matrices (see :func:`pixel_operators_2d`)."""
        return pixel_operators_2d(self.grid_functions, self.count, x_edges, y_edges, nodes)

    def _coefficients(self, frequencies: np.ndarray) -> np.ndarray:
        """:math:`(-i)^q p_q(k_\\parallel)` on the pupil nodes, shape ``(count, nodes)``."""
        return self.along.polynomials(frequencies) * ((-1j) ** np.arange(self.count))[:, None]

    @staticmethod
    def _real(values: np.ndarray) -> np.ndarray:
        scale = np.max(np.abs(values)) if values.size else 0.0
        return values.real if np.max(np.abs(values.imag), initial=0.0) <= 1e-10 * max(scale, 1e-300) else values


@dataclass(frozen=True, eq=False)
class ApertureModes2D(_AxisModes2D):
    r"""PSF-adapted modes of a circular (annular) aperture for sources along the angle ``orientation``.

    With the pupil uniform on the annulus :math:`\epsilon_oR \le |\mathbf k| \le R` (R = π/``width``,
    ``width`` = λ/D in the scene's angle units), the k_⊥ integral of one chord is
    :math:`\int e^{ik_\perp y}dk_\perp/2\pi = [\sin(s y) - \sin(s_i y)]/(\pi y)` with
    :math:`s = \sqrt{R^2-k_\parallel^2}`, :math:`s_i = \sqrt{r^2-k_\parallel^2}_+`, so

    .. math:: \phi_q(x', y') = \sum_j W_j (-i)^q p_q(k_j) e^{ik_jx'}\, a_j\sqrt{\frac{2\pi}{c_j}}\,
              \frac{\sin(s_jy')-\sin(s_{i,j}y')}{\pi y'},

    (x', y') the coordinates along and across the axis, :math:`W_j, a_j` the weights and marginal
    pupil amplitudes of :func:`~sensing.physics.psf.aperture_marginal_psf`, :math:`c_j = 2s_j-2s_{i,j}`
    the chord length.
    """

    width_: float
    obscuration: float
    count_: int
    orientation: float = 0.0
    nodes: int = 96

    def __post_init__(self):
        psf = aperture_marginal_psf(1.0, self.width_, self.obscuration, self.nodes)
        object.__setattr__(self, "along", PsfAdaptedModes(psf, self.count_))

    @property
    def name(self) -> str:
        return f"aperture(lambda/D={self.width_:.4g}, obscuration={self.obscuration:.3g})"

    def _parts(self):
        psf = self.along.psf
        k = psf.frequencies
        radius = np.pi / self.width_
        s = np.sqrt(np.clip(radius**2 - k**2, 0.0, None))
        si = np.sqrt(np.clip((self.obscuration * radius) ** 2 - k**2, 0.0, None))
        chord = 2 * s - 2 * si
        scale = psf.pupil * np.sqrt(2 * np.pi / np.where(chord > 0, chord, 1.0)) / np.pi
        return self._coefficients(k) * (psf.weights * scale), k, s, si  # (q, j)

    def functions_at(self, x: np.ndarray, y: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Mode amplitudes at the points (x, y) (flat arrays), shape ``(count, n)``."""
        coefficient, k, s, si = self._parts()
        c, sn = np.cos(self.orientation), np.sin(self.orientation)
        x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        along, across = x * c + y * sn, -x * sn + y * c
        out = np.empty((self.count, x.size), dtype=complex)
        for start in range(0, x.size, chunk):
            a, b = along[start:start + chunk, None], across[start:start + chunk, None]
            small = np.abs(b) < 1e-12 * self.width_
            bb = np.where(small, 1.0, b)
            transverse = np.where(small, s - si, (np.sin(s * bb) - np.sin(si * bb)) / bb)  # (n, j)
            out[:, start:start + chunk] = coefficient @ (np.exp(1j * a * k) * transverse).T
        return self._real(out)

    def grid_functions(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Modes on the tensor grid ``ys`` x ``xs``, shape ``(count, len(ys), len(xs))``."""
        if self.orientation == 0.0:  # separable: along = x, across = y
            coefficient, k, s, si = self._parts()
            xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
            small = np.abs(ys) < 1e-12 * self.width_
            yy = np.where(small, 1.0, ys)[:, None]
            transverse = np.where(small[:, None], s - si, (np.sin(s * yy) - np.sin(si * yy)) / yy)  # (y, j)
            left = (coefficient[:, None, :] * transverse[None]).reshape(-1, k.size)  # (q y, j)
            out = (left @ np.exp(1j * np.outer(k, xs))).reshape(self.count, ys.size, xs.size)
            return self._real(out)
        gx, gy = np.meshgrid(xs, ys)
        return self.functions_at(gx, gy).reshape(self.count, len(ys), len(xs))


@dataclass(frozen=True, eq=False)
class SampledModes2D(_AxisModes2D):
    r"""PSF-adapted modes of a sampled 2-D PSF (FITS image), sources along x (``orientation`` 0).

    The pupil is the discrete spectrum of the samples (band-limited interpolation,
    :class:`~sensing.physics.psf.SampledPSF`); the marginal over k_y gives the 1-D basis, and
    :math:`\phi_q(x,y) = \sum_{k_x,k_y}\frac{\Delta k_x\Delta k_y}{(2\pi)^2}(-i)^qp_q(k_x)\tilde\psi(k_x,k_y)e^{i(k_xx+k_yy)}`
    (separable sums).
    """

    sampled: SampledPSF
    count_: int

    orientation: ClassVar[float] = 0.0

    def __post_init__(self):
        object.__setattr__(self, "along", PsfAdaptedModes(self.sampled.marginal(), self.count_))

    @property
    def name(self) -> str:
        ny, nx = np.shape(self.sampled.values)
        return f"sampled({ny}x{nx}, pixel_scale={self.sampled.pixel_scale:.4g})"

    def grid_functions(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        spectrum, kx, ky = self.sampled._spectrum()
        ny, nx = spectrum.shape
        scale = self.sampled.pixel_scale
        dkx, dky = 2 * np.pi / (nx * scale), 2 * np.pi / (ny * scale)
        ex = np.exp(1j * np.outer(kx, np.asarray(xs, dtype=float)))  # (kx, x)
        ey = np.exp(1j * np.outer(np.asarray(ys, dtype=float), ky))  # (y, ky)
        # The marginal basis's pupil is sqrt of the k_y marginal: its polynomials are in k_x.
        coefficient = self._coefficients(kx) * (dkx * dky / (2 * np.pi) ** 2)  # (q, kx)
        transverse = ey @ spectrum  # (y, kx): sum over k_y
        left = (coefficient[:, None, :] * transverse[None]).reshape(-1, kx.size)  # (q y, kx)
        out = (left @ ex).reshape(self.count, len(ys), len(xs))
        return self._real(out)

    @cached_property
    def _norm_check(self) -> float:  # pragma: no cover - diagnostic
        return float(self.along.psf.masses.sum())


def hermite_gauss_overlaps(modes, sorted_modes: int, width: float, nodes: int | None = None) -> np.ndarray:
    r"""Rows :math:`V_{qj} = \langle\mathrm{HG}_q^\sigma|\phi_j\rangle` of a Hermite-Gauss sorter of width σ
    expressed in a PSF-adapted basis ``modes`` (1-D :class:`~sensing.physics.psf.PsfAdaptedModes` or a 2-D
    basis of this module; 2-D order HG(qx, qy) by total order, as
    :class:`~sensing.physics.modes.HermiteGaussModes2D`).

    Image-plane Gauss-Legendre quadrature over the extent where the Hermite-Gauss modes live
    (:math:`|x - c| \le \sigma(4\sqrt{q_{max}+1}+12)`); for light inside the span of ``modes`` the
    sorter's output amplitudes are exactly :math:`b_q = \sum_j V_{qj}a_j`.

    Returns
    -------
    ndarray, shape ``(sorted_modes, modes.count)``
    """
    from sensing.physics.modes import HermiteGaussModes, HermiteGaussModes2D

    if modes.dimensions == 1:
        extent = width * (4 * np.sqrt(sorted_modes + 1) + 12)
        n = nodes or 1600
        t, w = roots_legendre(n)
        x = modes.center + extent * t
        hg = HermiteGaussModes(sorted_modes, width, modes.center).functions(x) * (extent * w)
        return hg @ np.asarray(modes.functions(x)).T
    per_axis = int(np.ceil((np.sqrt(8 * sorted_modes + 1) - 1) / 2))
    per_axis = max(per_axis, 1)
    while per_axis * (per_axis + 1) // 2 < sorted_modes:
        per_axis += 1
    grid = HermiteGaussModes2D(per_axis, width)
    extent = width * (4 * np.sqrt(per_axis) + 12)
    n = nodes or 160
    t, w = roots_legendre(n)
    xs = extent * t
    axis = grid.axis.functions(xs) * (extent * w)  # (orders, n)
    phi = modes.grid_functions(xs, xs)  # (K, y, x)
    projected = np.einsum("ay,jyx,bx->jab", axis, phi, axis, optimize=True)  # [j, qy, qx]
    qx, qy = (o[:sorted_modes] for o in grid.orders)
    return projected[:, qy, qx].T


def matched_gaussian_width(modes) -> float:
    r"""Width σ of the Hermite-Gauss sorter matched to a PSF-adapted basis: maximises :math:`|\langle\mathrm{HG}_0^\sigma|\psi\rangle|^2`.

    1-D: :func:`~sensing.physics.psf.gaussian_fit_width` (``overlap``); 2-D: the same overlap with the
    circular Gaussian :math:`\mathrm{HG}_{00}`, by quadrature of :math:`\phi_0 = \psi`.
    """
    from scipy.optimize import minimize_scalar

    from sensing.physics.psf import gaussian_fit_width

    if modes.dimensions == 1:
        return gaussian_fit_width(modes.psf, "overlap")
    scale = 1.0 / (2.0 * np.sqrt(modes.psf.separation_qfi))  # Gaussian-equivalent width (sigma for a Gaussian)
    t, w = roots_legendre(240)
    xs, ws = 12 * scale * t, 12 * scale * w
    psi = modes.grid_functions(xs, xs)[0]

    def loss(sigma):
        g = (2 * np.pi * sigma**2) ** -0.25 * np.exp(-(xs**2) / (4 * sigma**2)) * ws
        return -float(np.abs(g @ psi @ g) ** 2)

    return float(minimize_scalar(loss, bounds=(0.2 * scale, 2.5 * scale), method="bounded",
                                 options={"xatol": 1e-9 * scale}).x)
