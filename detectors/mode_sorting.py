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

from sensing.detectors.counting import CountingDetector, CountingSettings, SorterOutputs


class SpadeSettings(CountingSettings):
    """Config of ``kind: spade``."""

    kind: Literal["spade"] = "spade"
    modes: int = Field(
        ge=1, le=60,
        description="Hermite-Gauss modes sorted to their own outputs (HG0 .. HG{modes-1}; in 2-D the first `modes` "
        "HG(qx, qy) by total order qx + qy, then qx)",
    )
    bucket: bool = Field(True, description="count the photons of all higher modes in one extra output")
    crosstalk: float = Field(
        0.0, ge=0.0, lt=0.5,
        description="probability that a photon leaks to each neighbouring mode's output (in 2-D: modes differing by one in qx or qy)",
    )


def crosstalk_unitary(modes: int, crosstalk: float, pairs: list[tuple[int, int]] | None = None) -> np.ndarray:
    r"""Unitary mixing each sorted mode with its neighbours.

    :math:`U = \exp(-iH)`, H real symmetric with couplings :math:`\arcsin\sqrt{c}` between
    the neighbouring ``pairs`` (default: q and q + 1, a tridiagonal H); to first order a
    photon in a mode reaches each neighbour's output with probability c.
    """
    coupling = np.arcsin(np.sqrt(crosstalk))
    h = np.zeros((modes, modes))
    for i, j in pairs if pairs is not None else [(q, q + 1) for q in range(modes - 1)]:
        h[i, j] = h[j, i] = coupling
    return expm(-1j * h)


class Spade(CountingDetector):
    r"""Hermite-Gauss mode sorter aligned with the PSF, counting photons per output.

    Output q < ``modes`` counts :math:`b_q^\dagger b_q` with :math:`b_q = \sum_j U_{qj} a_j`
    (U: crosstalk among the sorted modes), so :math:`(M_q)_{ij} = U_{qi}^* U_{qj}`. The
    bucket counts all modes q >= ``modes``.

    On a 2-D image plane the sorted modes are the first ``modes`` HG(qx, qy) in order of
    total order qx + qy, then qx (the basis order of
    :class:`~sensing.contracts.states.HermiteGaussModes2D`); crosstalk couples each sorted mode to the
    sorted modes that differ by one in qx or in qy (neighbouring total order).
    """

    kind = "spade"

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
        u[:, : s.modes] = crosstalk_unitary(s.modes, s.crosstalk, modes.neighbour_pairs(s.modes))
        labels = modes.labels(s.modes) + (["bucket"] if s.bucket else [])
        return SorterOutputs(u, np.arange(k) >= s.modes if s.bucket else None), labels
