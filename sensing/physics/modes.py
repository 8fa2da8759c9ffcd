"""Image-plane mode bases: 1-D and 2-D Hermite-Gauss modes (pure functions of arrays).

Tsang, Nair and Lu, PRX 6, 031033 (2016): the Hermite-Gauss modes of a Gaussian PSF.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from functools import cached_property
from math import factorial
from typing import ClassVar

import numpy as np
from scipy.special import roots_legendre

def region_integrals(functions, count: int, edges: np.ndarray, nodes: int = 24) -> np.ndarray:
    r"""Overlap matrices :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}} \phi_q^*\phi_r\,dx` of the
    intervals between ``edges`` for the mode functions ``functions(x) -> (count, len(x))``
    (Gauss-Legendre, ``nodes`` points per interval).

    Returns
    -------
    ndarray, shape ``(len(edges) - 1, count, count)``
    """
    edges = np.asarray(edges, dtype=float)
    t, w = roots_legendre(nodes)
    lo, hi = edges[:-1, None], edges[1:, None]
    x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    weights = 0.5 * (hi - lo) * w
    phi = functions(x.ravel()).reshape(count, *x.shape)
    return np.einsum("qkn,rkn,kn->kqr", np.conj(phi), phi, weights)


@dataclass(frozen=True)
class HermiteGaussModes:
    r"""A basis of 1-D Hermite-Gauss spatial modes in the image plane.

    Mode :math:`q` is :math:`\phi_q(x) = (2\pi\sigma^2)^{-1/4} e^{-(x-c)^2/(4\sigma^2)}
    H_q\big((x-c)/(\sqrt2\sigma)\big)/\sqrt{2^q q!}`, so :math:`|\phi_0|^2` is the
    normal density of standard deviation :math:`\sigma` (the PSF width of Tsang, Nair and
    Lu, PRX 6, 031033 (2016)).

    Parameters
    ----------
    count : int
        Number of modes kept (q = 0 .. count-1).
    width : float
        Intensity standard deviation sigma of mode 0, in the config's length units.
    center : float
        Position of the basis centre (the optical axis).
    """

    count: int
    width: float
    center: float = 0.0

    #: Dimensions of the image plane the basis spans.
    dimensions: ClassVar[int] = 1

    def neighbour_pairs(self, count: int) -> list[tuple[int, int]]:
        """Pairs of the first ``count`` modes whose orders differ by one (q, q + 1)."""
        return [(q, q + 1) for q in range(count - 1)]

    def labels(self, count: int) -> list[str]:
        """Names of the first ``count`` modes: ``HG0``, ``HG1``, ..."""
        return [f"HG{q}" for q in range(count)]

    def functions(self, x: np.ndarray) -> np.ndarray:
        """Mode amplitudes at positions ``x``; shape ``(count, len(x))`` (stable recurrence)."""
        u = (np.asarray(x, dtype=float) - self.center) / (np.sqrt(2.0) * self.width)
        out = np.empty((self.count, u.size))
        out[0] = (2 * np.pi * self.width**2) ** -0.25 * np.exp(-(u**2) / 2)
        if self.count > 1:
            out[1] = np.sqrt(2.0) * u * out[0]
        for q in range(2, self.count):
            out[q] = np.sqrt(2.0 / q) * u * out[q - 1] - np.sqrt((q - 1) / q) * out[q - 2]
        return out

    def point_source_amplitudes(self, positions: np.ndarray) -> np.ndarray:
        r"""Overlaps :math:`\langle\phi_q|\psi_X\rangle` of the basis with the PSF centred at X.

        :math:`\langle\phi_q|\psi_X\rangle = e^{-Q/2}\,(X/2\sigma)^q/\sqrt{q!}`,
        :math:`Q = X^2/(4\sigma^2)` (TNL 2016, Eq. (4.4)); vectorised over ``positions``.

        Returns
        -------
        ndarray, shape ``positions.shape + (count,)``
        """
        shift = (np.asarray(positions, dtype=float) - self.center) / (2.0 * self.width)
        # The recurrence a_q = a_{q-1} X / (2 sigma sqrt(q)) as one cumulative product (a power
        # and a factorial per entry cost 6x more; the two agree to a few ulp).
        factors = np.empty(shift.shape + (self.count,))
        factors[..., 0] = np.exp(-(shift**2) / 2.0)
        factors[..., 1:] = shift[..., None] * _inverse_sqrt_orders(self.count)
        return np.cumprod(factors, axis=-1, out=factors)

    def _powers_and_norms(self) -> tuple[np.ndarray, np.ndarray]:
        """``q = 0..count-1`` and :math:`1/\sqrt{q!}` (cached per mode count)."""
        return _powers_and_norms(self.count)

    def region_operators(self, edges: np.ndarray, nodes: int = 24) -> np.ndarray:
        r"""Matrices :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}} \phi_q\phi_r\,dx` of intervals.

        The photon number in region k is :math:`\hat a^\dagger M_k \hat a` in this basis.
        Gauss-Legendre quadrature with ``nodes`` points per interval (exact to machine
        precision for intervals up to a few sigma wide).

        Returns
        -------
        ndarray, shape ``(len(edges) - 1, count, count)``
        """
        return region_integrals(self.functions, self.count, edges, nodes)


@dataclass(frozen=True)
class HermiteGaussModes2D:
    r"""A basis of 2-D Hermite-Gauss modes :math:`\phi_{q_x}(x)\,\phi_{q_y}(y)`, truncated by total order.

    The basis holds every product mode with :math:`q_x + q_y <` ``per_axis``, ordered by total
    order :math:`q_x + q_y`, then by :math:`q_x`: HG(0,0), HG(0,1), HG(1,0), HG(0,2), ...
    (``count`` = per_axis (per_axis + 1) / 2 modes). Both factors are the 1-D modes of
    :class:`HermiteGaussModes` with the same width, so :math:`|\phi_{00}|^2` is the circular
    normal density of standard deviation sigma in x and y, centred on the optical axis.

    Truncating by total order keeps the basis small and loses nothing the 1-D basis would
    keep: a PSF displaced by (X, Y) has :math:`|\langle\phi_{q_xq_y}|\psi\rangle|^2` =
    Poisson(q_x; X^2/4\sigma^2) Poisson(q_y; Y^2/4\sigma^2), so its weight in total order n is
    Poisson(n; (X^2 + Y^2)/4\sigma^2), a function of the distance from the axis only.

    Parameters
    ----------
    per_axis : int
        Orders kept along each axis (total order < per_axis).
    width : float
        Intensity standard deviation sigma of mode (0, 0) in x and in y.
    """

    per_axis: int
    width: float

    dimensions: ClassVar[int] = 2

    @property
    def axis(self) -> HermiteGaussModes:
        """The 1-D factor basis (the same along x and y)."""
        return HermiteGaussModes(self.per_axis, self.width, 0.0)

    @property
    def count(self) -> int:
        return self.per_axis * (self.per_axis + 1) // 2

    @cached_property
    def orders(self) -> tuple[np.ndarray, np.ndarray]:
        """``(qx, qy)`` of each basis mode, in basis order."""
        pairs = [(qx, n - qx) for n in range(self.per_axis) for qx in range(n + 1)]
        qx, qy = np.array(pairs).T
        return qx, qy

    def neighbour_pairs(self, count: int) -> list[tuple[int, int]]:
        """Pairs of the first ``count`` modes that differ by one in qx or in qy."""
        qx, qy = (o[:count] for o in self.orders)
        return [(i, j) for i in range(count) for j in range(i + 1, count)
                if abs(qx[i] - qx[j]) + abs(qy[i] - qy[j]) == 1]

    def labels(self, count: int) -> list[str]:
        """Names of the first ``count`` modes: ``HG0_0``, ``HG0_1``, ``HG1_0``, ..."""
        qx, qy = self.orders
        return [f"HG{a}_{b}" for a, b in zip(qx[:count], qy[:count])]

    def point_source_amplitudes(self, positions: np.ndarray) -> np.ndarray:
        r"""Overlaps :math:`\langle\phi_{q_x}\phi_{q_y}|\psi_{X,Y}\rangle` with the PSF centred at (X, Y).

        The product of the 1-D overlaps (TNL 2016, Eq. (4.4)) along each axis.

        Parameters
        ----------
        positions : ndarray, shape ``(..., 2)``
            (X, Y) of each point source.

        Returns
        -------
        ndarray, shape ``positions.shape[:-1] + (count,)``
        """
        positions = np.asarray(positions, dtype=float)
        qx, qy = self.orders
        along_x = self.axis.point_source_amplitudes(positions[..., 0])
        along_y = self.axis.point_source_amplitudes(positions[..., 1])
        return along_x[..., qx] * along_y[..., qy]


@functools.lru_cache(maxsize=64)
def _inverse_sqrt_orders(count: int) -> np.ndarray:
    """:math:`1/\sqrt{q}` for q = 1..count-1 (read-only, cached per mode count)."""
    out = 1.0 / np.sqrt(np.arange(1, count, dtype=float))
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=64)
def _powers_and_norms(count: int) -> tuple[np.ndarray, np.ndarray]:
    q = np.arange(count)
    norms = np.array([1.0 / np.sqrt(float(factorial(k))) for k in q])
    q.setflags(write=False)
    norms.setflags(write=False)
    return q, norms
