r"""Spatial-mode demultiplexing (SPADE): a mode sorter with photon counting.

Tsang, Nair and Lu, PRX 6, 031033 (2016): sorting the image-plane light into the
Hermite-Gauss modes of a Gaussian PSF and counting photons per mode reaches the quantum limit
:math:`1/(4\sigma^2)` per photon for the separation at every separation. For any other PSF the
sorter that reaches the quantum limit at small separations sorts the PSF-adapted modes
(Gram-Schmidt of the PSF's derivatives; Rehacek, Paur, Stoklasa, Hradil, Sanchez-Soto, Opt.
Lett. 42, 231 (2017)): ``basis: psf_adapted``. ``basis: hermite_gauss`` on a non-Gaussian PSF is
the mismatched sorter (Hermite-Gauss modes of the best-matching Gaussian, or of ``hg_width``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field
from scipy.linalg import expm

from sensing.detectors.counting import CountingDetector, CountingSettings, DenseOutputs, SorterOutputs
from sensing.physics.modes import HermiteGaussModes, HermiteGaussModes2D


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
    basis: Literal["psf_adapted", "hermite_gauss"] = Field(
        "psf_adapted",
        description="modes sorted: psf_adapted (Gram-Schmidt of the PSF's derivatives; the Hermite-Gauss modes for a "
        "Gaussian PSF) or hermite_gauss (Hermite-Gauss modes of width hg_width: mismatched on a non-Gaussian PSF)",
    )
    hg_width: float | None = Field(
        None, gt=0.0,
        description="basis hermite_gauss: intensity standard deviation of HG0 in the scene's units (default: the Gaussian "
        "of largest overlap with the PSF; psf_sigma for a Gaussian PSF)",
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

    @classmethod
    def examples(cls):
        """1-D and 2-D Gaussian PSFs, and the sorters on Airy PSFs (mismatched Hermite-Gauss, PSF-adapted)."""
        scene, detector = cls.example()
        airy = {"kind": "two_point", "separation": 0.7, "photons_per_copy": 0.6, "relative_brightness": 0.3,
                "psf": {"kind": "airy", "width": 2.0}}
        return super().examples() + [
            (airy, {**detector, "basis": "hermite_gauss"}),
            ({**airy, "dimensions": 2, "orientation": 0.6, "psf": {"kind": "annular", "width": 2.0, "obscuration": 0.3}},
             {**detector, "basis": "psf_adapted"}),
        ]

    def operators(self, modes):
        s = self.settings
        gaussian = isinstance(modes, (HermiteGaussModes, HermiteGaussModes2D))
        if s.basis == "hermite_gauss" and (not gaussian or s.hg_width is not None and s.hg_width != modes.width):
            return self._mismatched(modes)
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

    def _mismatched(self, modes):
        r"""A Hermite-Gauss sorter on a basis it does not belong to: output q measures :math:`b_q^\dagger b_q` with
        :math:`b_q = \sum_j (UV)_{qj}a_j`, :math:`V_{qj} = \langle\mathrm{HG}_q|\phi_j\rangle`
        (:func:`~sensing.physics.pupil_modes.hermite_gauss_overlaps`), U the crosstalk; the bucket gets the rest of
        the light, :math:`I - V^\dagger V` (dense operators: the bucket is not a set of basis modes)."""
        from sensing.physics.pupil_modes import hermite_gauss_overlaps, matched_gaussian_width

        s = self.settings
        if modes.dimensions == 2 and isinstance(modes, HermiteGaussModes2D):
            raise ValueError(f"detector {s.name!r}: hg_width on a 2-D Gaussian PSF is not supported; omit hg_width")
        width = s.hg_width or (modes.width if isinstance(modes, HermiteGaussModes) else matched_gaussian_width(modes))
        if isinstance(modes, HermiteGaussModes):
            from scipy.special import roots_legendre

            rows = HermiteGaussModes(s.modes, width, modes.center).functions  # sorted modes on this basis
            extent = max(width, modes.width) * (4 * (s.modes + modes.count) ** 0.5 + 12)
            t, w = roots_legendre(2000)
            x = modes.center + extent * t
            v = (rows(x) * (extent * w)) @ modes.functions(x).T
        else:
            v = hermite_gauss_overlaps(modes, s.modes, width)
        reference = HermiteGaussModes(s.modes, width) if modes.dimensions == 1 else HermiteGaussModes2D(s.modes, width)
        u = crosstalk_unitary(s.modes, s.crosstalk, reference.neighbour_pairs(s.modes)) @ v
        matrices = np.einsum("qi,qj->qij", u.conj(), u)
        if s.bucket:
            rest = np.eye(modes.count) - v.conj().T @ v
            matrices = np.concatenate([matrices, 0.5 * (rest + rest.conj().T)[None]], axis=0)
        self.sorted_width = width
        return DenseOutputs(matrices), reference.labels(s.modes) + (["bucket"] if s.bucket else [])
