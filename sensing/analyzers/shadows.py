r"""Classical shadows: measure first, ask later (``analysis.kind: shadow_prediction``).

For every detector offering ``"snapshots"`` (random-Pauli and random-Clifford measurements of
photonic qubits, random-phase homodyne and heterodyne of one bosonic mode), the analysis draws
``max(copies)`` snapshots from its own stream of the root seed (``(ANALYSIS_STREAM, point,
detector)``; :mod:`sensing.contracts.seeds`), keeps them, and predicts every configured property
from the first N snapshots at each ``copies`` checkpoint N:

* qubits: Pauli strings (``"XZIIY"`` or sparse ``"X0 Z3"``), weighted Pauli sums (energies,
  correlators, magnetisation; :class:`ObservableSpec`), fidelity with the prepared stabilizer
  state, Renyi-2 purity/entropy of small subsystems;
* one mode: density-matrix elements, photon-number distribution, Wigner function at points,
  fidelity with the prepared (lossless) state, mean photon number, quadrature moments.

Estimates are medians of ``K = ceil(2 ln(2M/delta))`` batch means (Huang, Kueng, Preskill 2020,
Theorem 1; PHYSICS.md 4.1) for the linear (Pauli, Fock-functional) predictions; the standard error
is that of the full mean (spread of equal blocks, or per-shot spread). Renyi-2 uses the unbiased
U-statistic of :func:`sensing.physics.shadows.renyi2_entropy`.

The snapshots are handed to the framework as an artifact (:meth:`ShadowPrediction.artifacts`,
written to ``snapshots.nc``, format in ``docs/shadows.md``) so that :func:`sensing.predict`
answers new questions later without re-simulating; :func:`predict_payload` is the one function
both paths use, so predictions from the saved snapshots equal the run's own numbers exactly.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sensing.contracts.analysis import Analysis, format_table, sweep_dims
from sensing.contracts.seeds import generator
from sensing.contracts.states import FockState, QubitDensityState, QubitState, StabilizerState
from sensing.physics import cv_shadows as cv
from sensing.physics import shadows as sh

#: Format version of the snapshot payload (``snapshots.nc`` groups).
SNAPSHOT_FORMAT = "sensing-shadows/1"
#: Child key of a unit's analysis stream for the snapshots, and for sampled fidelity elements.
SNAPSHOT_KEY, FIDELITY_KEY = 0, 1
#: Numbers of observables M at which the theory budget ``snapshots_needed_theory`` is tabulated.
OBSERVABLE_COUNTS = (10, 100, 1000, 10_000, 100_000)
_SPARSE = re.compile(r"^\s*([XYZxyz]\d+\s*)+$")
_DENSE = re.compile(r"^[IXYZixyz]+$")


def parse_pauli(spec: str, qubits: int | None = None) -> str:
    """A Pauli string in dense form (``"XZIIY"``) from dense or sparse (``"X0 Z3"``) notation.

    Raises
    ------
    ValueError
        Naming the string and what is allowed.
    """
    text = str(spec).strip()
    if _DENSE.match(text):
        if qubits is not None and len(text) != qubits:
            raise ValueError(f"Pauli string {spec!r} has {len(text)} letters; the register has {qubits} qubits")
        return text.upper()
    if _SPARSE.match(text):
        chars = None if qubits is None else ["I"] * qubits
        for letter, site in re.findall(r"([XYZxyz])(\d+)", text):
            site = int(site)
            if chars is not None:
                if site >= qubits:
                    raise ValueError(f"Pauli string {spec!r} names qubit {site}; the register has qubits 0..{qubits - 1}")
                if chars[site] != "I":
                    raise ValueError(f"Pauli string {spec!r} names qubit {site} twice")
                chars[site] = letter.upper()
        return text if chars is None else "".join(chars)
    raise ValueError(f"Pauli string {spec!r}: expected letters I, X, Y, Z (e.g. 'XZIIY') or sparse "
                     "letter+qubit terms (e.g. 'X0 Z3')")


class ObservableSpec(BaseModel):
    """A named qubit observable: one Pauli string, a weighted Pauli sum, or a built-in sum."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="label in the results (default: derived from the definition)")
    pauli: str | None = Field(None, description="one Pauli string, dense 'XZIIY' or sparse 'X0 Z3'")
    terms: dict[str, float] | None = Field(None, description="weighted Pauli sum {pauli string: coefficient}")
    builtin: Literal["magnetization", "ising_energy"] | None = Field(
        None, description="magnetization: (1/n) sum_i sigma_i; ising_energy: -J sum_i Z_i Z_{i+1} - h sum_i X_i")
    axis: Literal["X", "Y", "Z"] = Field("Z", description="magnetization: the Pauli of every site")
    coupling: float = Field(1.0, description="ising_energy: J")
    field: float = Field(0.0, description="ising_energy: h")
    periodic: bool = Field(False, description="ising_energy: include the bond (n-1, 0)")

    @model_validator(mode="after")
    def _one_definition(self):
        given = [k for k in ("pauli", "terms", "builtin") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of pauli, terms, builtin (got {given or 'none'})")
        for p in ([self.pauli] if self.pauli else []) + list(self.terms or {}):
            parse_pauli(p)
        return self

    def label(self) -> str:
        if self.name:
            return self.name
        if self.pauli:
            return self.pauli
        if self.builtin:
            return self.builtin if self.builtin != "magnetization" else f"magnetization_{self.axis}"
        return "+".join(f"{c:g}*{p}" for p, c in self.terms.items())

    def pauli_sum(self, qubits: int) -> dict[str, float]:
        """``{dense Pauli string: coefficient}`` on ``qubits`` qubits."""
        if self.pauli:
            return {parse_pauli(self.pauli, qubits): 1.0}
        if self.terms:
            out: dict[str, float] = {}
            for p, c in self.terms.items():
                key = parse_pauli(p, qubits)
                out[key] = out.get(key, 0.0) + float(c)
            return out
        if self.builtin == "magnetization":
            return {parse_pauli(f"{self.axis}{q}", qubits): 1.0 / qubits for q in range(qubits)}
        out = {}
        bonds = [(q, q + 1) for q in range(qubits - 1)] + ([(qubits - 1, 0)] if self.periodic and qubits > 2 else [])
        for a, b in bonds:
            out[parse_pauli(f"Z{a} Z{b}", qubits)] = -self.coupling
        if self.field:
            for q in range(qubits):
                out[parse_pauli(f"X{q}", qubits)] = -self.field
        return out


class RandomPaulis(BaseModel):
    """Random Pauli strings of weight ``min_weight..max_weight`` (uniform weight, sites and letters),
    drawn from the analysis stream of the root seed (the same at every sweep point and detector)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=100_000, description="number of random Pauli strings")
    max_weight: int = Field(4, ge=1, le=12, description="largest weight k")
    min_weight: int = Field(1, ge=1, le=12, description="smallest weight")


class ShadowPredictionSettings(BaseModel):
    """Config of ``analysis.kind: shadow_prediction``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["shadow_prediction"] = "shadow_prediction"
    observables: list[str | ObservableSpec] = Field([], description="qubits: Pauli strings or named Pauli sums")
    random_paulis: RandomPaulis | None = Field(None, description="qubits: add random Pauli strings")
    fidelity: bool = Field(False, description="fidelity with the prepared state (qubits: the noiseless stabilizer state; one mode: the lossless state)")
    fidelity_group_samples: int | None = Field(
        None, ge=2, le=100_000, description="qubits: sample this many stabilizer-group elements (needed above 14 qubits)")
    renyi2_subsystems: list[list[int]] = Field([], description="qubits: subsystems A (1-8 sites) for tr rho_A^2 and S_2")
    density_elements: list[tuple[int, int]] = Field([], description="one mode: density-matrix elements [m, n]")
    photon_numbers: int = Field(0, ge=0, le=cv.MAX_FOCK_INDEX, description="one mode: p(n) for n < photon_numbers")
    wigner_points: list[tuple[float, float]] = Field([], description="one mode: Wigner function at alpha = [Re, Im]")
    mean_photon_number: bool = Field(False, description="one mode: <a^dag a>")
    quadrature_moments: list[tuple[int, float]] = Field([], description="one mode: <x_phi^q> as [q, phi] (hbar = 1 units)")
    fock_cutoff: int | None = Field(None, ge=1, le=cv.MAX_FOCK_INDEX, description="one mode: truncation of the Wigner and fidelity estimators (default: the state's cutoff)")
    correct_efficiency: bool = Field(True, description="one mode: invert the detector efficiency where the estimator allows (predict the state before the detector)")
    epsilon: float = Field(0.1, gt=0.0, le=1.0, description="accuracy of the theory budgets and of snapshots_needed")
    delta: float = Field(0.01, gt=0.0, lt=1.0, description="failure probability of the median-of-means guarantee (sets K)")

    @field_validator("observables")
    @classmethod
    def _parse_strings(cls, value):
        for i, item in enumerate(value):
            if isinstance(item, str):
                try:
                    parse_pauli(item)
                except ValueError as err:
                    raise ValueError(f"observables.{i}: {err}") from None
        return value

    @field_validator("renyi2_subsystems")
    @classmethod
    def _subsystems(cls, value):
        for i, sites in enumerate(value):
            if not 1 <= len(sites) <= 8 or len(set(sites)) != len(sites) or min(sites) < 0:
                raise ValueError(f"renyi2_subsystems.{i}: need 1-8 distinct qubit indices, got {sites}")
        return value

    @model_validator(mode="after")
    def _weights(self):
        if self.random_paulis and self.random_paulis.min_weight > self.random_paulis.max_weight:
            raise ValueError("random_paulis: min_weight must not exceed max_weight")
        return self


SCHEMA = {
    "prediction": "shadow prediction (median of means for linear properties) from the first `copies` snapshots",
    "mean_prediction": "mean of the single-snapshot estimates (unbiased) from the first `copies` snapshots",
    "standard_error": "standard error of mean_prediction",
    "snapshots_used": "snapshots that entered the prediction (survivors of photon loss on the support)",
    "true_value": "exact value of the property for the state as measured (NaN where not known)",
    "shadow_norm_squared": "bound on the single-snapshot variance (random-Pauli shadow norm squared; NaN where none)",
    "mse": "mean over the linear properties this detector estimates of (mean_prediction - true_value)^2",
    "mse_bound": "mean over the linear properties of shadow_norm_squared / usable snapshots (variance bound of the mean)",
    "max_error": "largest |prediction - true_value| over the single Pauli strings of weight k",
    "error_bound": "HKP Theorem 1 accuracy: sqrt(34 3^k K / (N survival^k)), held by all M predictions w.p. >= 1 - delta",
    "snapshots_needed": "first copies checkpoint at which max_error <= epsilon (NaN: never)",
    "snapshots_needed_bound": "HKP Theorem 1 budget K N for the configured M Pauli strings of weight k, with this detector's loss",
    "snapshots_needed_theory": "HKP Theorem 1 budget K N against the number of observables M and the weight k (no loss)",
}

RESULT_DIMS = frozenset({"detector", "copies", "observable", "locality", "observable_count"})


# --------------------------------------------------------------------------------------------------
# Properties ("entries") to predict
# --------------------------------------------------------------------------------------------------
def qubit_entries(settings: ShadowPredictionSettings, qubits: int, rng_choice: np.random.Generator | None) -> list[dict]:
    """The qubit properties of ``settings`` as entries ``{name, kind, ...}``; random Pauli strings
    from ``rng_choice`` (the analysis' choice stream)."""
    entries: list[dict] = []
    for item in settings.observables:
        spec = ObservableSpec(pauli=item) if isinstance(item, str) else item
        entries.append({"name": spec.label(), "kind": "pauli_sum", "terms": spec.pauli_sum(qubits)})
    if settings.random_paulis is not None:
        r = settings.random_paulis
        if r.max_weight > qubits:
            raise ValueError(f"analysis.random_paulis.max_weight: {r.max_weight} exceeds the {qubits} qubits of the source")
        seen = {e["name"] for e in entries}
        tries = added = 0
        while added < r.count:
            tries += 1
            if tries > 100 * r.count:
                raise ValueError(f"analysis.random_paulis.count: only {tries} distinct strings found; lower the count")
            k = int(rng_choice.integers(r.min_weight, r.max_weight + 1))
            sites = rng_choice.choice(qubits, size=k, replace=False)
            chars = ["I"] * qubits
            for site, letter in zip(sites, rng_choice.integers(0, 3, size=k)):
                chars[site] = "XYZ"[letter]
            s = "".join(chars)
            if s not in seen:
                seen.add(s)
                added += 1
                entries.append({"name": s, "kind": "pauli_sum", "terms": {s: 1.0}})
    if settings.fidelity:
        entries.append({"name": "fidelity", "kind": "fidelity"})
    for sites in settings.renyi2_subsystems:
        if max(sites) >= qubits:
            raise ValueError(f"analysis.renyi2_subsystems: {sites} names a qubit beyond the {qubits} of the source")
        label = ",".join(map(str, sites))
        entries.append({"name": f"purity[{label}]", "kind": "purity", "sites": list(sites)})
        entries.append({"name": f"renyi2_entropy[{label}]", "kind": "renyi2", "sites": list(sites)})
    return entries


def mode_entries(settings: ShadowPredictionSettings) -> list[dict]:
    """The single-mode properties of ``settings`` as entries."""
    entries = []
    for m, n in settings.density_elements:
        for part in ("real", "imag"):
            entries.append({"name": f"rho[{m},{n}].{part}", "kind": "rho", "m": int(m), "n": int(n), "part": part})
    for n in range(settings.photon_numbers):
        entries.append({"name": f"p[{n}]", "kind": "rho", "m": n, "n": n, "part": "real"})
    for re_, im_ in settings.wigner_points:
        entries.append({"name": f"wigner[{re_:g}{im_:+g}j]", "kind": "wigner", "alpha": [float(re_), float(im_)]})
    if settings.fidelity:
        entries.append({"name": "fidelity", "kind": "mode_fidelity"})
    if settings.mean_photon_number:
        entries.append({"name": "mean_photon_number", "kind": "photon_number"})
    for q, phi in settings.quadrature_moments:
        entries.append({"name": f"x^{int(q)}[phi={phi:g}]", "kind": "quadrature", "order": int(q), "phase": float(phi)})
    return entries


def _linear(entry: dict) -> bool:
    return entry["kind"] in ("pauli_sum", "rho", "wigner", "mode_fidelity", "photon_number", "quadrature", "fidelity")


def _single_pauli_weight(entry: dict) -> int:
    """Weight of a single-Pauli entry with coefficient 1, else 0."""
    if entry["kind"] != "pauli_sum" or len(entry["terms"]) != 1:
        return 0
    (p, c), = entry["terms"].items()
    return sh.pauli_weight(p) if c == 1.0 else 0


# --------------------------------------------------------------------------------------------------
# Snapshot payloads: the arrays a run keeps (and writes to snapshots.nc)
# --------------------------------------------------------------------------------------------------
def _state_record(state) -> tuple[dict, dict]:
    """Arrays and attributes describing the typed state (for true values after a reload)."""
    arrays, attrs = {}, {}
    if isinstance(state, QubitState):
        attrs.update(qubits=int(state.qubits), survival=float(state.survival), depolarizing=float(state.depolarizing),
                     dephasing=float(state.dephasing), encoding=str(state.encoding))
        if isinstance(state, StabilizerState):
            attrs["state_type"] = "stabilizer"
            attrs["circuit"] = str(state.circuit)
        else:
            attrs["state_type"] = "dense"
            dense = np.asarray(state.density, dtype=complex)
            arrays["state_real"], arrays["state_imag"] = dense.real.copy(), dense.imag.copy()
    else:
        attrs.update(state_type="fock", cutoff=int(state.cutoff))
        rho = np.asarray(state.density_matrix, dtype=complex)
        arrays["rho_real"], arrays["rho_imag"] = rho.real.copy(), rho.imag.copy()
        if state.reference is not None:
            ref = np.asarray(state.reference, dtype=complex)
            arrays["reference_real"], arrays["reference_imag"] = ref.real.copy(), ref.imag.copy()
    return arrays, attrs


def state_from_payload(payload: dict):
    """The typed state a payload was drawn from (rebuilt from its record)."""
    a, arrays = payload["attrs"], payload["arrays"]
    if a["state_type"] == "fock":
        rho = arrays["rho_real"] + 1j * arrays["rho_imag"]
        ref = arrays["reference_real"] + 1j * arrays["reference_imag"] if "reference_real" in arrays else None
        return FockState(rho, int(a["cutoff"]), reference=ref)
    common = dict(qubits=int(a["qubits"]), survival=float(a["survival"]), depolarizing=float(a["depolarizing"]),
                  dephasing=float(a["dephasing"]), encoding=str(a["encoding"]))
    if a["state_type"] == "stabilizer":
        import stim

        return StabilizerState(**common, circuit=stim.Circuit(a["circuit"]))
    return QubitDensityState(**common, density=arrays["state_real"] + 1j * arrays["state_imag"])


def make_payload(model, detector, state, copies: list[int], seed: np.random.SeedSequence) -> dict:
    """Draw ``max(copies)`` snapshots with ``model.snapshots`` from child ``SNAPSHOT_KEY`` of
    ``seed`` and pack them (bases as ``uint8``, outcome and erasure bits packed 8 per byte)."""
    total = int(max(copies))
    rng = generator(seed, SNAPSHOT_KEY)
    arrays, attrs = _state_record(state)
    attrs.update(format=SNAPSHOT_FORMAT, detector=detector.name, detector_kind=detector.kind,
                 efficiency=float(detector.settings.efficiency), copies=[int(c) for c in copies], snapshots=total,
                 seed_entropy=str(seed.entropy), seed_spawn_key=[int(k) for k in seed.spawn_key])
    snaps = model.snapshots(rng, total)
    dims = {"state_real": ["basis"] if arrays.get("state_real", np.zeros(0)).ndim == 1 else ["basis", "basis_col"],
            "rho_real": ["fock_row", "fock_col"], "reference_real": ["fock_row", "fock_col"]}
    dims["state_imag"], dims["rho_imag"], dims["reference_imag"] = dims["state_real"], dims["rho_real"], dims["reference_real"]
    if "reference_real" in arrays and arrays["reference_real"].ndim == 1:
        dims["reference_real"] = dims["reference_imag"] = ["fock_row"]
    dims.update(bases=["snapshot", "qubit"], bits=["snapshot", "qubit_byte"], phase=["snapshot"], quadrature=["snapshot"],
                stabilizer_index=["snapshot"], alpha_real=["snapshot"], alpha_imag=["snapshot"])
    dims["erased"] = ["snapshot", "qubit_byte"]
    if isinstance(snaps, sh.PauliSnapshots):
        attrs["protocol"] = "pauli"
        arrays["bases"] = snaps.bases.astype(np.uint8)
        arrays["bits"] = np.packbits(snaps.bits.astype(bool), axis=1, bitorder="little")
        arrays["erased"] = np.packbits(snaps.erased, axis=1, bitorder="little")
    elif isinstance(snaps, cv.HomodyneSamples):
        attrs["protocol"] = "homodyne"
        arrays["phase"], arrays["quadrature"] = np.asarray(snaps.phases, float), np.asarray(snaps.quadratures, float)
    elif isinstance(snaps, tuple):
        attrs["protocol"] = "clifford"
        index, erased = snaps
        arrays["stabilizer_index"] = index.astype(np.uint16)
        arrays["erased"] = erased.astype(np.uint8)
        dims["erased"] = ["snapshot"]
    else:
        attrs["protocol"] = "heterodyne"
        z = np.asarray(snaps, dtype=complex)
        arrays["alpha_real"], arrays["alpha_imag"] = z.real.copy(), z.imag.copy()
    # C-contiguous owned copies: the arrays read back from snapshots.nc have this layout, and numpy's
    # reductions round differently on strided views, so both paths see identical memory
    arrays = {k: np.array(v, order="C", copy=True) for k, v in arrays.items()}
    return {"arrays": arrays, "attrs": attrs, "dims": {k: v for k, v in dims.items() if k in arrays}}


def _pauli_snapshots(payload: dict, count: int) -> sh.PauliSnapshots:
    a = payload["arrays"]
    n = int(payload["attrs"]["qubits"])
    bits = np.unpackbits(a["bits"][:count], axis=1, count=n, bitorder="little")
    erased = np.unpackbits(a["erased"][:count], axis=1, count=n, bitorder="little").astype(bool)
    return sh.PauliSnapshots(np.asarray(a["bases"][:count], dtype=np.uint8), bits, erased)


# --------------------------------------------------------------------------------------------------
# Prediction (the one code path of `sensing run` and `sensing predict`)
# --------------------------------------------------------------------------------------------------
def _median_of_means(shots: np.ndarray, batches: int) -> tuple[float, float, float]:
    """Median of ``batches`` contiguous batch means, the full mean and its standard error."""
    # exactly rounded sums (math.fsum): the numbers do not depend on memory layout or alignment,
    # so predictions from the saved snapshots equal the run's to the last bit
    shots = np.asarray(shots, dtype=float)
    n = len(shots)
    if n < 2:
        return float("nan"), float("nan"), float("nan")
    k = max(1, min(batches, n // 2))
    size = n // k
    means = [math.fsum(shots[b * size:(b + 1) * size]) / size for b in range(k)]
    mean = math.fsum(shots) / n
    variance = math.fsum((shots - mean) ** 2) / (n - 1)
    return float(np.median(means)), mean, math.sqrt(variance / n)


def _batches(entries: list[dict], delta: float) -> int:
    linear = sum(_linear(e) for e in entries)
    return sh.median_of_means_batches(max(1, linear), delta)


def _fidelity_elements(state: StabilizerState, group_samples: int | None, rng: np.random.Generator) -> dict[str, float]:
    """Pauli sum whose expectation is the fidelity with the noiseless stabilizer state: the full group
    :math:`2^{-n}\\sum_g g` (n <= 14), or the average of ``group_samples`` uniformly drawn elements."""
    import stim

    generators = sh.stabilizer_generators(state.circuit)
    n = len(generators)
    if group_samples is None:
        if n > sh.MAX_DENSE_QUBITS:
            raise ValueError(f"analysis.fidelity_group_samples: the exact fidelity enumerates 2**{n} group elements; "
                             f"above {sh.MAX_DENSE_QUBITS} qubits give fidelity_group_samples")
        return {p: c / 2**n for p, c in sh.stabilizer_group(generators).items()}
    out: dict[str, float] = {}
    for row in rng.integers(0, 2, size=(group_samples, n)).astype(bool):
        e = stim.PauliString(n)
        for g, used in zip(generators, row):
            if used:
                e = e * g
        key = str(e)[1:].replace("_", "I")
        out[key] = out.get(key, 0.0) + float(np.real(e.sign)) / group_samples
    return out


#: Largest dense register whose fidelity target is expanded in Pauli strings (4^n terms).
MAX_FIDELITY_DENSE_QUBITS = 6


def _dense_fidelity_terms(state: QubitDensityState) -> dict[str, float]:
    r"""Pauli sum of the noiseless dense state :math:`\sigma`: :math:`\operatorname{tr}(\sigma\rho) =
    \sum_P \operatorname{tr}(P\sigma)\operatorname{tr}(P\rho)/2^n` (small n)."""
    import itertools

    from sensing.contracts.states import dense_pauli_expectations

    n = state.qubits
    if n > MAX_FIDELITY_DENSE_QUBITS:
        raise ValueError(f"analysis.fidelity: the fidelity with a dense {n}-qubit state expands in 4**{n} Pauli strings "
                         f"(at most {MAX_FIDELITY_DENSE_QUBITS} qubits)")
    strings = ["".join(p) for p in itertools.product("IXYZ", repeat=n)]
    coefficients = dense_pauli_expectations(state.density, strings) / 2**n
    return {p: float(c) for p, c in zip(strings, coefficients) if abs(c) > 1e-14}


def _purity_true(state: QubitState, sites: list[int]) -> float:
    r""":math:`\operatorname{tr}\rho_A^2 = 2^{-|A|}\sum_{P\text{ on }A}\operatorname{tr}(P\rho)^2`."""
    import itertools

    n = state.qubits
    strings = []
    for letters in itertools.product("IXYZ", repeat=len(sites)):
        chars = ["I"] * n
        for s, c in zip(sites, letters):
            chars[s] = c
        strings.append("".join(chars))
    values = state.expectations(strings)
    return float(np.sum(values**2) / 2 ** len(sites))


def _qubit_predictions(payload, state, entries, settings, counts, rng_fidelity):
    """Arrays (C, M) of prediction, standard error, used, and (M,) true values, norms."""
    protocol = payload["attrs"]["protocol"]
    batches = _batches(entries, settings.delta)
    m = len(entries)
    c = len(counts)
    pred, mean, se, used = np.full((c, m), np.nan), np.full((c, m), np.nan), np.full((c, m), np.nan), np.zeros((c, m), dtype=np.int64)
    true, norm = np.full(m, np.nan), np.full(m, np.nan)
    sums = {}
    for j, e in enumerate(entries):
        if e["kind"] == "pauli_sum":
            sums[j] = e["terms"]
        elif e["kind"] == "fidelity":
            if isinstance(state, StabilizerState):
                sums[j] = _fidelity_elements(state, settings.fidelity_group_samples, rng_fidelity)
            else:
                sums[j] = _dense_fidelity_terms(state)
    for j, terms in sums.items():
        strings = list(terms)
        true[j] = float(np.dot(list(terms.values()), state.expectations(strings)))
        norm[j] = sh.shadow_norm_squared(terms)
    if protocol == "pauli":
        for i, count in enumerate(counts):
            snaps = _pauli_snapshots(payload, count)
            if sums:
                keys = list(sums)
                est = sh.estimate_observables(snaps, [sums[j] for j in keys], batches=batches)
                pred[i, keys], se[i, keys], used[i, keys] = est.estimate, est.standard_error, est.snapshots_used
                mean[i, keys] = est.mean
            for j, e in enumerate(entries):
                if e["kind"] in ("purity", "renyi2"):
                    r = sh.renyi2_entropy(snaps, e["sites"])
                    if e["kind"] == "purity":
                        pred[i, j] = mean[i, j] = r.purity
                        se[i, j] = r.purity_standard_error
                    else:
                        pred[i, j] = mean[i, j] = r.entropy
                        se[i, j] = r.entropy_standard_error
                    used[i, j] = r.snapshots_used
    else:  # clifford
        n = int(payload["attrs"]["qubits"])
        stabs = sh.stabilizer_states(n)
        index = payload["arrays"]["stabilizer_index"].astype(np.int64)
        kept = payload["arrays"]["erased"] == 0
        dim = 2**n
        for j, terms in sums.items():
            matrix = sum(coef * _pauli_matrix(p) for p, coef in terms.items())
            values = (dim + 1) * np.real(np.einsum("vi,ij,vj->v", stabs.conj(), matrix, stabs)) - np.real(np.trace(matrix))
            norm[j] = 3 * _traceless_square(matrix)
            for i, count in enumerate(counts):
                shots = values[index[:count][kept[:count]]]
                pred[i, j], mean[i, j], se[i, j] = _median_of_means(shots, batches)
                used[i, j] = len(shots)
    for j, e in enumerate(entries):
        if e["kind"] in ("purity", "renyi2"):
            purity = _purity_true(state, e["sites"])
            true[j] = purity if e["kind"] == "purity" else -math.log2(purity)
    return pred, mean, se, used, true, norm


def _pauli_matrix(string: str) -> np.ndarray:
    single = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}
    out = np.ones((1, 1), dtype=complex)
    for ch in string:
        out = np.kron(out, single[ch])
    return out


def _traceless_square(matrix: np.ndarray) -> float:
    r""":math:`\operatorname{tr}(O_0^2)` with :math:`O_0 = O - \operatorname{tr}(O)I/d` (Clifford shadow norm :math:`\le 3\operatorname{tr}O_0^2`)."""
    d = len(matrix)
    o0 = matrix - np.trace(matrix) / d * np.eye(d)
    return float(np.real(np.trace(o0 @ o0)))


def _mode_operator_true(rho: np.ndarray, e: dict) -> float:
    d = len(rho)
    if e["kind"] == "rho":
        v = rho[e["m"], e["n"]] if max(e["m"], e["n"]) < d else 0.0
        return float(np.real(v) if e["part"] == "real" else np.imag(v))
    if e["kind"] == "wigner":
        w = cv.wigner_operator(complex(*e["alpha"]), d)
        return float(np.real(np.trace(rho @ w)))
    if e["kind"] == "photon_number":
        return float(np.real(np.trace(np.diag(np.arange(d)) @ rho)))
    if e["kind"] == "quadrature":
        big = np.zeros((d + e["order"], d + e["order"]), dtype=complex)
        big[:d, :d] = rho
        a = np.diag(np.sqrt(np.arange(1, len(big))), 1)
        x = (a * np.exp(-1j * e["phase"]) + a.T * np.exp(1j * e["phase"])) / np.sqrt(2)
        return float(np.real(np.trace(big @ np.linalg.matrix_power(x, e["order"]))))
    raise KeyError(e["kind"])


def _homodyne_all_shots(samples: cv.HomodyneSamples, entries: list[dict], efficiency: float, cutoff: int,
                        reference) -> list[np.ndarray | None]:
    """Per-shot estimates of every property; each per-shot :math:`\hat\rho_{mn}` is computed once and
    shared by the density elements and the Fock-space functionals (Wigner, fidelity)."""
    operators = {}
    for j, e in enumerate(entries):
        if e["kind"] == "wigner":
            operators[j] = cv.wigner_operator(complex(*e["alpha"]), cutoff)
        elif e["kind"] == "mode_fidelity":
            ref = np.asarray(reference)
            operators[j] = (np.outer(ref, ref.conj()) if ref.ndim == 1 else ref)[:cutoff, :cutoff]
    out: list = [None] * len(entries)
    totals = {j: np.zeros(len(samples.phases)) for j in operators}
    pairs = {(max(e["m"], e["n"]), min(e["m"], e["n"])) for e in entries if e["kind"] == "rho"}
    for op in operators.values():
        d = len(op)
        pairs |= {(m, n) for m in range(d) for n in range(m + 1) if op[n, m] != 0 or op[m, n] != 0}
    for m, n in sorted(pairs):
        shot = cv.homodyne_single_shots(samples, m, n, efficiency)  # rho_mn, m >= n
        for j, e in enumerate(entries):
            if e["kind"] == "rho" and (e["m"], e["n"]) in ((m, n), (n, m)):
                value = shot if (e["m"], e["n"]) == (m, n) else np.conj(shot)
                out[j] = np.ascontiguousarray(value.real if e["part"] == "real" else value.imag)
        for j, op in operators.items():
            if m < len(op):
                # tr(A rho) = sum_{mn} A_nm rho_mn; the (n, m) term is the conjugate for Hermitian A
                term = (op[n, m] * shot).real
                totals[j] += term if m == n else 2 * term
    for j in operators:
        out[j] = totals[j]
    for j, e in enumerate(entries):
        if out[j] is None:
            out[j] = _homodyne_shots(samples, e, efficiency)
    return out


def _homodyne_shots(samples: cv.HomodyneSamples, e: dict, efficiency: float) -> np.ndarray | None:
    """Per-shot unbiased estimates of a moment from random-phase homodyne (None: not available)."""
    if e["kind"] == "photon_number":
        return (samples.quadratures**2 - 0.5) / efficiency
    if e["kind"] == "quadrature":
        q = e["order"]
        u = samples.phases - e["phase"]
        kernel = sum(np.cos(j * u) for j in range(-q, q + 1, 2))
        return cv._deconvolved_power(samples.quadratures, q, efficiency) * kernel
    return None


def _heterodyne_shots(z: np.ndarray, e: dict, efficiency: float) -> np.ndarray | None:
    """Per-shot unbiased estimates from heterodyne, where a bounded one exists (None otherwise)."""
    if e["kind"] == "photon_number":
        return (np.abs(z) ** 2 - 1) / efficiency
    if e["kind"] == "quadrature" and e["order"] in (1, 2):
        zb = z / np.sqrt(efficiency)  # alpha_P + noise of variance 1/eta
        if e["order"] == 1:  # <x_phi> = sqrt2 Re(e^{-i phi}<a>)
            return np.sqrt(2) * np.real(np.exp(-1j * e["phase"]) * zb)
        # <x_phi^2> = Re(e^{-2i phi}<a^2>) + <a^dag a> + 1/2 (normal-ordered moments from zb)
        return np.real(np.exp(-2j * e["phase"]) * zb**2) + (np.abs(zb) ** 2 - 1 / efficiency) + 0.5
    return None


def _mode_predictions(payload, state: FockState, entries, settings, counts):
    attrs = payload["attrs"]
    detector_efficiency = float(attrs["efficiency"])
    correct = settings.correct_efficiency
    efficiency = detector_efficiency if correct else 1.0
    rho_true = np.asarray(state.density_matrix) if correct else state.after_loss(detector_efficiency)
    cutoff = settings.fock_cutoff or int(state.cutoff)
    batches = _batches(entries, settings.delta)
    m, c = len(entries), len(counts)
    pred, mean, se, used = np.full((c, m), np.nan), np.full((c, m), np.nan), np.full((c, m), np.nan), np.zeros((c, m), dtype=np.int64)
    true, norm = np.full(m, np.nan), np.full(m, np.nan)
    a = payload["arrays"]
    pattern_entries = ("rho", "wigner", "mode_fidelity")
    if attrs["protocol"] == "homodyne" and correct and efficiency <= 0.5 and any(e["kind"] in pattern_entries for e in entries):
        raise ValueError(f"analysis.correct_efficiency: the loss-inverting pattern functions need detector efficiency > 1/2 "
                         f"(detector {attrs['detector']!r} has {efficiency}); set correct_efficiency: false")
    if attrs["protocol"] == "homodyne":
        all_shots = _homodyne_all_shots(cv.HomodyneSamples(a["phase"], a["quadrature"]), entries, efficiency, cutoff,
                                        state.reference)
    else:
        z = a["alpha_real"] + 1j * a["alpha_imag"]
        all_shots = [_heterodyne_shots(z, e, efficiency) for e in entries]
    for j, e in enumerate(entries):
        if e["kind"] == "mode_fidelity":
            ref = state.reference
            sigma = np.outer(ref, ref.conj()) if np.ndim(ref) == 1 else np.asarray(ref)
            true[j] = float(np.real(np.trace(sigma @ rho_true)))
        else:
            true[j] = _mode_operator_true(rho_true, e)
        shots = all_shots[j]
        if shots is None:
            continue
        for i, count in enumerate(counts):
            pred[i, j], mean[i, j], se[i, j] = _median_of_means(shots[:count], batches)
            used[i, j] = count
    return pred, mean, se, used, true, norm


def predict_payload(payload: dict, settings: ShadowPredictionSettings) -> dict:
    """See :func:`_predict_payload`; runs with one BLAS thread, as the pipeline's tasks do, so that
    matrix products round identically in a run and in a later :func:`sensing.predict`."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _predict_payload(payload, settings)


def _predict_payload(payload: dict, settings: ShadowPredictionSettings) -> dict:
    """Predictions of every property of ``settings`` from one snapshot payload, at each of its
    ``copies`` checkpoints; the one code path of runs and of :func:`sensing.predict`.

    Returns
    -------
    dict
        ``names``, ``weights`` (single-Pauli weight, 0 otherwise), ``linear`` (M,);
        ``prediction``, ``standard_error``, ``snapshots_used`` (C, M); ``true_value``,
        ``shadow_norm_squared`` (M,); ``batches``; ``survival`` (qubits; 1 for one mode).
    """
    attrs = payload["attrs"]
    if attrs.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"snapshot payload format {attrs.get('format')!r}; this version reads {SNAPSHOT_FORMAT!r}")
    payload = {**payload, "arrays": {k: np.ascontiguousarray(v) for k, v in payload["arrays"].items()}}
    state = state_from_payload(payload)
    counts = [int(c) for c in attrs["copies"]]
    seed = np.random.SeedSequence(int(attrs["seed_entropy"]), spawn_key=tuple(attrs["seed_spawn_key"]))
    if attrs["protocol"] in ("pauli", "clifford"):
        choice = generator(np.random.SeedSequence(int(attrs["seed_entropy"]), spawn_key=tuple(attrs["seed_spawn_key"][:1])), 2**31 - 1)
        entries = qubit_entries(settings, int(attrs["qubits"]), choice)
        pred, mean, se, used, true, norm = _qubit_predictions(payload, state, entries, settings, counts, generator(seed, FIDELITY_KEY))
        survival = float(attrs["survival"]) * float(attrs["efficiency"])
    else:
        entries = mode_entries(settings)
        pred, mean, se, used, true, norm = _mode_predictions(payload, state, entries, settings, counts)
        survival = 1.0
    return {"names": [e["name"] for e in entries], "weights": np.array([_single_pauli_weight(e) for e in entries], dtype=np.int64),
            "linear": np.array([_linear(e) for e in entries]), "prediction": pred, "mean_prediction": mean, "standard_error": se,
            "snapshots_used": used, "true_value": true, "shadow_norm_squared": norm,
            "batches": _batches(entries, settings.delta), "survival": survival, "protocol": attrs["protocol"]}


def prediction_dataset(results: list[dict], detector_names: list[str], copies: list[int], settings: ShadowPredictionSettings) -> xr.Dataset:
    """One sweep point's labelled dataset from :func:`predict_payload` of every detector."""
    first = results[0]
    for r, name in zip(results, detector_names):
        if r["names"] != first["names"]:
            raise ValueError(f"detector {name!r} predicts other properties than {detector_names[0]!r}; "
                             "use detectors of one kind (qubit or single mode) per run")
    copies = np.asarray(copies, dtype=np.int64)
    weights = first["weights"]
    kmax = max(1, int(weights.max()) if len(weights) else 1)
    localities = np.arange(1, kmax + 1)
    ds = xr.Dataset(coords={"detector": detector_names, "copies": copies, "observable": first["names"],
                            "locality": localities, "observable_count": np.asarray(OBSERVABLE_COUNTS)})
    ds = ds.assign_coords(observable_weight=("observable", weights))
    stack = lambda key: np.stack([r[key] for r in results])  # noqa: E731
    ds["prediction"] = (("detector", "copies", "observable"), stack("prediction"))
    ds["mean_prediction"] = (("detector", "copies", "observable"), stack("mean_prediction"))
    ds["standard_error"] = (("detector", "copies", "observable"), stack("standard_error"))
    ds["snapshots_used"] = (("detector", "copies", "observable"), stack("snapshots_used"))
    for r, name in zip(results, detector_names):
        same = np.array_equal(np.isnan(r["true_value"]), np.isnan(first["true_value"])) and np.allclose(
            r["true_value"], first["true_value"], rtol=1e-9, atol=1e-12, equal_nan=True)
        if not same:
            raise ValueError(f"detector {name!r} sees other true values than {detector_names[0]!r} (for one mode, different "
                             "efficiencies without correct_efficiency); run them separately or set correct_efficiency: true")
    ds["true_value"] = (("observable",), first["true_value"])
    ds["shadow_norm_squared"] = (("observable",), first["shadow_norm_squared"])
    linear = first["linear"] & np.isfinite(first["true_value"])
    err = ds["prediction"] - ds["true_value"]
    with np.errstate(invalid="ignore", divide="ignore"):
        # the unbiased mean against its variance bound; the median of means goes with the HKP bound below
        ds["mse"] = ((ds["mean_prediction"] - ds["true_value"]) ** 2).isel(observable=np.flatnonzero(linear)).mean("observable") if linear.any() else \
            xr.DataArray(np.full((len(results), len(copies)), np.nan), dims=("detector", "copies"))
        bound = ds["shadow_norm_squared"] / ds["snapshots_used"].where(ds["snapshots_used"] > 0)
        ds["mse_bound"] = bound.isel(observable=np.flatnonzero(linear)).mean("observable") if linear.any() else ds["mse"] * np.nan
        max_error = np.full((len(results), len(copies), len(localities)), np.nan)
        error_bound = np.full_like(max_error, np.nan)
        needed = np.full((len(results), len(localities)), np.nan)
        needed_bound = np.full((len(results), len(localities)), np.nan)
        count_pauli = int(np.count_nonzero(weights))
        abs_err = np.abs(err.values)
        for d, r in enumerate(results):
            for kk, k in enumerate(localities):
                cols = np.flatnonzero(weights == k)
                if cols.size == 0:
                    continue
                max_error[d, :, kk] = np.nanmax(abs_err[d][:, cols], axis=1)
                eff = r["survival"] ** k
                error_bound[d, :, kk] = np.sqrt(34 * 3.0**k * r["batches"] / (copies * eff))
                ok = np.flatnonzero(max_error[d, :, kk] <= settings.epsilon)
                needed[d, kk] = copies[ok[0]] if ok.size else np.nan
                if r["survival"] > 0:
                    needed_bound[d, kk] = sh.snapshots_needed(count_pauli, int(k), settings.epsilon, settings.delta,
                                                              loss=1 - r["survival"]).total
    ds["max_error"] = (("detector", "copies", "locality"), max_error)
    ds["error_bound"] = (("detector", "copies", "locality"), error_bound)
    ds["snapshots_needed"] = (("detector", "locality"), needed)
    ds["snapshots_needed_bound"] = (("detector", "locality"), needed_bound)
    ds["snapshots_needed_theory"] = (("locality", "observable_count"), np.array(
        [[sh.snapshots_needed(mm, int(k), settings.epsilon, settings.delta).total for mm in OBSERVABLE_COUNTS] for k in localities],
        dtype=float))
    for name, text in SCHEMA.items():
        ds[name].attrs["long_name"] = text
    for name in ("snapshots_used", "snapshots_needed", "snapshots_needed_bound", "snapshots_needed_theory"):
        ds[name].attrs["units"] = "snapshots (copies)"
    ds["true_value"].attrs["note"] = ("for one mode: of the state before the detector when correct_efficiency, else of the "
                                      "detected state; qubit fidelity with sampled group elements: the average over those elements")
    ds["copies"].attrs.update(long_name="snapshots (copies) used for the prediction", units="1")
    ds["locality"].attrs.update(long_name="Pauli weight k", units="1")
    ds["observable_count"].attrs.update(long_name="number of predicted observables M", units="1")
    ds.attrs["median_of_means_batches"] = int(first["batches"])
    ds.attrs["epsilon"], ds.attrs["delta"] = float(settings.epsilon), float(settings.delta)
    return ds


class ShadowPrediction(Analysis):
    """Classical-shadow predictions, with theory bounds, from snapshots the run keeps."""

    kind = "shadow_prediction"
    Settings = ShadowPredictionSettings
    detector_capabilities = frozenset({"snapshots"})
    schema = SCHEMA
    #: The artifact :func:`sensing.predict` reads.
    artifacts_file = "snapshots.nc"
    artifact_files = ("snapshots.nc",)
    result_dims = RESULT_DIMS

    @classmethod
    def example(cls):
        return {"kind": "shadow_prediction", "observables": ["Z0 Z1", "X0 X1", {"name": "zz_energy", "terms": {"Z0 Z1": -1.0, "X0": 0.5}}],
                "random_paulis": {"count": 5, "max_weight": 2}, "fidelity": True, "renyi2_subsystems": [[0]],
                "density_elements": [[0, 0], [1, 0]], "mean_photon_number": True}

    def analyze_detector(self, scene, detector, statistics, seed=None):
        copies = [int(c) for c in np.asarray(statistics["copies"])[:, 0]]
        if seed is None:
            raise ValueError("shadow_prediction draws its snapshots from the unit's analysis stream; a seed is required")
        state = scene.prepare(detector.accepts)
        model = detector.outcome_model(state)
        payload = make_payload(model, detector, state, copies, seed)
        return {"payload": payload, "predictions": predict_payload(payload, self.settings)}

    def analyze_scene(self, scene, references=()):
        return {"photons_per_copy": float(scene.photons_per_copy)}

    def point_dataset(self, config, scene_result, detector_results, detector_names):
        ds = prediction_dataset([d["predictions"] for d in detector_results], detector_names, list(config.copies), self.settings)
        ds["photons_per_copy"] = ((), scene_result["photons_per_copy"], {"long_name": "photons per copy reaching the detectors", "units": "photons"})
        return ds

    def artifacts(self, points: list[dict], detector_names: list[str]) -> dict[str, dict[str, dict]]:
        """``{"snapshots.nc": {"point0/<detector>": payload, ...}}``: the snapshots of every
        (sweep point, detector), written by the framework (:mod:`sensing.snapshots`)."""
        groups = {}
        for p, point in enumerate(points):
            for name, result in zip(detector_names, point["detectors"]):
                payload = result["payload"]
                groups[f"point{p}/{name}"] = {"arrays": payload["arrays"], "attrs": {**payload["attrs"], "point": p},
                                              "dims": payload.get("dims", {})}
        return {SNAPSHOTS_FILE: groups}

    #: Settings fields that name properties to predict (replaced by a ``sensing predict`` request).
    PROPERTY_FIELDS = ("observables", "random_paulis", "fidelity", "renyi2_subsystems", "density_elements",
                       "photon_numbers", "wigner_points", "mean_photon_number", "quadrature_moments")

    def request_settings(self, observables: list[str] | None = None, request: dict | list | None = None) -> ShadowPredictionSettings:
        """The run's settings with the properties replaced by a later request: Pauli strings
        ``observables`` and/or ``request`` (a list of observables, or a mapping of settings fields,
        e.g. from ``--observable-file``). Without a request: the run's own properties.

        Raises
        ------
        pydantic.ValidationError
            Naming the field and the bad value.
        """
        base = self.settings.model_dump(exclude_none=True)
        if not observables and request is None:
            return self.Settings(**base)
        fields = {k: v for k, v in base.items() if k not in self.PROPERTY_FIELDS}
        if isinstance(request, list):
            request = {"observables": request}
        request = dict(request or {})
        request["observables"] = list(observables or []) + list(request.get("observables", []))
        return self.Settings(**{**fields, **request})

    def predict_from_artifacts(self, groups: dict[str, dict], detector_names: list[str], points: int,
                               settings: ShadowPredictionSettings) -> list[xr.Dataset]:
        """Per sweep point, the dataset of ``settings``' properties from the saved snapshots."""
        out = []
        for p in range(points):
            keys = [f"point{p}/{name}" for name in detector_names]
            missing = [k for k in keys if k not in groups]
            if missing:
                raise ValueError(f"the snapshot store has no group {missing[0]!r}")
            results = [predict_payload(groups[k], settings) for k in keys]
            copies = groups[keys[0]]["attrs"]["copies"]
            out.append(prediction_dataset(results, detector_names, copies, settings))
        return out

    def plots(self, ds, out):
        return shadow_plots(ds, Path(out))

    def summary(self, ds):
        return shadow_summary(ds)


#: Artifact file of the snapshots in a run folder.
SNAPSHOTS_FILE = "snapshots.nc"


def _first_point(ds: xr.Dataset) -> tuple[xr.Dataset, str]:
    sweep = sweep_dims(ds)
    fixed = {d: ds[d].values[0] for d in sweep}
    return (ds.isel({d: 0 for d in sweep}) if sweep else ds), ", ".join(f"{d}={v}" for d, v in fixed.items())


def shadow_plots(ds: xr.Dataset, out: Path) -> list[Path]:
    """``shadow_mse.png`` (MSE and its variance bound against snapshots) and
    ``shadow_errors.png`` (max error of weight-k Pauli predictions against the HKP bound)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sensing.analyzers.plots import fixed_margins, plain_log_labels  # fast layout and log labels

    out.mkdir(parents=True, exist_ok=True)
    p, note = _first_point(ds)
    files = []
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for d in p["detector"].values:
        ax.loglog(p["copies"], p["mse"].sel(detector=d), "o-", label=f"{d}: MSE")
        if np.isfinite(p["mse_bound"].sel(detector=d)).any():
            ax.loglog(p["copies"], p["mse_bound"].sel(detector=d), "--", label=f"{d}: variance bound")
    ax.set_xlabel("snapshots N")
    ax.set_ylabel("mean squared error")
    ax.set_title("shadow predictions" + (f" ({note})" if note else ""), fontsize=9, y=1.0)
    ax.legend(fontsize=7)
    plain_log_labels(ax)
    fixed_margins(fig, top=0.35)
    files.append(out / "shadow_mse.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)
    if np.isfinite(p["max_error"]).any():
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for d in p["detector"].values:
            for k in p["locality"].values:
                err = p["max_error"].sel(detector=d, locality=k)
                line = ax.loglog(p["copies"], err.where(err > 0), "o-", label=f"{d}, k={k}")  # 0 is off a log axis
                ax.loglog(p["copies"], p["error_bound"].sel(detector=d, locality=k), "--", color=line[0].get_color())
        ax.axhline(float(ds.attrs.get("epsilon", 0.1)), color="gray", lw=0.8)
        ax.set_xlabel("snapshots N")
        ax.set_ylabel("max |prediction - truth| over weight-k strings")
        ax.set_title("dashed: HKP Theorem 1 accuracy", fontsize=9, y=1.0)
        ax.legend(fontsize=6)
        plain_log_labels(ax)
        fixed_margins(fig, top=0.35)
        files.append(out / "shadow_errors.png")
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    return files


def shadow_summary(ds: xr.Dataset) -> str:
    """Per detector, at the largest snapshot count: M, MSE against the variance bound, largest
    weight-k error against the HKP accuracy, and a few predictions with error bars."""
    p, note = _first_point(ds)
    last = p.isel(copies=-1)
    rows = []
    for d in p["detector"].values:
        r = last.sel(detector=d)
        worst = [f"k={k}: {float(r['max_error'].sel(locality=k)):.3g} (<= {float(r['error_bound'].sel(locality=k)):.3g})"
                 for k in p["locality"].values if np.isfinite(r["max_error"].sel(locality=k))]
        rows.append([str(d), f"{int(p['copies'].values[-1])}", f"{p.sizes['observable']}", f"{float(r['mse']):.3g}",
                     f"{float(r['mse_bound']):.3g}", "; ".join(worst) or "-"])
    text = format_table(["detector", "snapshots", "M", "mse", "mse bound", "max error by weight (HKP bound)"], rows)
    lines = [text, "", "first predictions (detector " + str(p["detector"].values[0]) + "):"]
    first = last.isel(detector=0)
    for j in range(min(8, p.sizes["observable"])):
        name = str(p["observable"].values[j])
        tv = float(p["true_value"].values[j])
        lines.append(f"  {name[:40]:>40}: {float(first['prediction'].values[j]):+.4f} +- {float(first['standard_error'].values[j]):.4f}"
                     + (f"  (true {tv:+.4f})" if np.isfinite(tv) else ""))
    if note:
        lines.insert(0, f"at {note}")
    return "\n".join(lines)
