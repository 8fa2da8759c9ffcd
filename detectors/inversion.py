r"""Image-inversion interferometry (SLIVER): photon counting on the even and odd parts of the field.

Nair and Tsang, "Interferometric superlocalization of two incoherent optical point sources",
Opt. Express 24, 3684 (2016): an interferometer that splits the image-plane field into its
parts symmetric and antisymmetric under inversion about the optical axis,
:math:`x \to -x` (1-D) or :math:`(x, y) \to (-x, -y)` (2-D), and counts the photons of each.

In the Hermite-Gauss basis centred on the axis the inversion (parity) operator is diagonal,
:math:`\Pi\,\phi_q = (-1)^q\phi_q` (1-D) and :math:`\Pi\,\phi_{q_xq_y} = (-1)^{q_x+q_y}\phi_{q_xq_y}`
(2-D), so the two outputs measure :math:`\hat n_\pm = \hat a^\dagger P_\pm \hat a` with the
projectors :math:`P_\pm = (I \pm \Pi)/2`. A finite fringe visibility V of the interferometer
sends a photon to the wrong port with probability :math:`(1 - V)/2`:

.. math:: M_{\text{even}} = \tfrac{1+V}{2}P_+ + \tfrac{1-V}{2}P_-,\qquad
          M_{\text{odd}} = \tfrac{1-V}{2}P_+ + \tfrac{1+V}{2}P_-,

a classical routing of each photon (Poisson thinning), so the outputs stay counting outputs of
:class:`~sensing.detectors.counting.ClassicalCountingModel` (efficiency, dark counts and
threshold pixels as for every counting detector). One source at the axis never lights the odd
port of a perfect interferometer: :math:`P(\text{odd}\mid X) = (1 - e^{-X^2/(2\sigma^2)})/2`
for a source at distance X (PHYSICS.md §2.2), the basis of the one-vs-two-source test.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sensing.detectors.counting import CountingDetector, CountingSettings


class DiagonalOutputs:
    r"""Output operators diagonal in the mode basis, :math:`M_k = \mathrm{diag}(w_k)`, weights ``(n, K)``.

    Never forms K x K matrices (2-D bases have hundreds of modes): the traces are
    :math:`\sum_q w_{kq}\,\sum_s|L_{qs}|^2` and the responses :math:`L^\dagger\mathrm{diag}(w_k)L`.
    """

    def __init__(self, weights: np.ndarray):
        self.weights = np.asarray(weights, dtype=float)

    @property
    def count(self) -> int:
        return self.weights.shape[0]

    def traces(self, factor: np.ndarray) -> np.ndarray:
        power = (np.abs(factor) ** 2).sum(axis=-1)  # (..., K)
        return power @ self.weights.T

    def responses(self, factor: np.ndarray) -> np.ndarray:
        weighted = self.weights[:, :, None] * factor[..., None, :, :]  # (..., n, K, r)
        return np.swapaxes(np.conj(factor), -1, -2)[..., None, :, :] @ weighted

    def dense(self) -> np.ndarray:
        return np.stack([np.diag(w) for w in self.weights])


class SliverSettings(CountingSettings):
    """Config of ``kind: sliver``."""

    kind: Literal["sliver"] = "sliver"
    visibility: float = Field(
        1.0, gt=0.0, le=1.0,
        description="fringe visibility of the inversion interferometer: a photon reaches the wrong port with probability (1 - visibility)/2",
    )


def parity(modes) -> np.ndarray:
    r"""Inversion eigenvalues :math:`(-1)^q` (1-D) or :math:`(-1)^{q_x+q_y}` (2-D) of the basis modes."""
    if modes.dimensions == 1:
        order = np.arange(modes.count)
    else:
        qx, qy = modes.orders
        order = qx + qy
    return np.where(order % 2 == 0, 1.0, -1.0)


class Sliver(CountingDetector):
    r"""SLIVER: image inversion about the optical axis, counting photons in the even and odd ports.

    Outputs ``even`` and ``odd`` with operators :math:`M_{\text{even/odd}}` (module docstring):
    diagonal in the scene's Hermite-Gauss basis, on a 1-D or 2-D image plane.
    """

    kind = "sliver"

    Settings = SliverSettings

    @classmethod
    def example(cls):
        scene = {"kind": "two_point", "separation": 1.5, "photons_per_copy": 0.6, "relative_brightness": 0.3}
        return scene, {"kind": "sliver", "name": "sliver", "visibility": 0.95, "efficiency": 0.9, "dark_counts": 0.02}

    def operators(self, modes):
        v = self.settings.visibility
        even = (parity(modes) + 1.0) / 2.0
        odd = 1.0 - even
        weights = np.stack([(1 + v) / 2 * even + (1 - v) / 2 * odd, (1 - v) / 2 * even + (1 + v) / 2 * odd])
        return DiagonalOutputs(weights), ["even", "odd"]
