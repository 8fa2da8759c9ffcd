r"""Spatial-mode demultiplexing (SPADE): a Hermite-Gauss mode sorter with photon counting.

Tsang, Nair and Lu, PRX 6, 031033 (2016): sorting the image-plane light into the
Hermite-Gauss modes of the PSF and counting photons per mode reaches the quantum limit
:math:`1/(4\sigma^2)` per photon for the separation at every separation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field
from scipy.linalg import expm

from detectors.counting import CountingDetector, CountingSettings
from sensing.registry import register_detector


class SpadeSettings(CountingSettings):
    """Config of ``kind: spade``."""

    kind: Literal["spade"] = "spade"
    modes: int = Field(ge=1, le=60, description="Hermite-Gauss modes sorted to their own outputs (HG0 .. HG{modes-1})")
    bucket: bool = Field(True, description="count the photons of all higher modes in one extra output")
    crosstalk: float = Field(
        0.0, ge=0.0, lt=0.5, description="probability that a photon leaks to each neighbouring mode's output"
    )


def crosstalk_unitary(modes: int, crosstalk: float) -> np.ndarray:
    r"""Unitary mixing each sorted mode with its neighbours.

    :math:`U = \exp(-iH)`, H tridiagonal with couplings :math:`\arcsin\sqrt{c}`; to first
    order a photon in mode q reaches output q +/- 1 with probability c.
    """
    coupling = np.arcsin(np.sqrt(crosstalk))
    h = np.diag(np.full(modes - 1, coupling), 1)
    return expm(-1j * (h + h.T))


@register_detector("spade")
class Spade(CountingDetector):
    r"""Hermite-Gauss mode sorter aligned with the PSF, counting photons per output.

    Output q < ``modes`` counts :math:`b_q^\dagger b_q` with :math:`b_q = \sum_j U_{qj} a_j`
    (U: crosstalk among the sorted modes), so :math:`(M_q)_{ij} = U_{qi}^* U_{qj}`. The
    bucket counts all modes q >= ``modes``.
    """

    Settings = SpadeSettings

    @classmethod
    def example(cls):
        scene = {"kind": "two_point", "separation": 1.2, "photons_per_copy": 0.6, "relative_brightness": 0.3}
        return scene, {"kind": "spade", "name": "spade", "modes": 3, "crosstalk": 0.05, "efficiency": 0.9, "dark_counts": 0.02}

    def operators(self, modes):
        s = self.settings
        k = modes.count
        if s.modes > k:
            raise ValueError(
                f"detector {s.name!r}: modes={s.modes} exceeds the scene's image-plane basis of {k} modes; "
                f"raise source.basis_modes to at least {s.modes}"
            )
        u = np.zeros((s.modes, k), dtype=complex)
        u[:, : s.modes] = crosstalk_unitary(s.modes, s.crosstalk)
        ops = np.einsum("qi,qj->qij", u.conj(), u)
        labels = [f"HG{q}" for q in range(s.modes)]
        if s.bucket:
            bucket = np.diag((np.arange(k) >= s.modes).astype(float))
            ops = np.concatenate([ops, bucket[None]], axis=0)
            labels.append("bucket")
        return ops, labels
