"""Parameter estimation: Fisher information against the quantum limit, and estimator error
against copies (``analysis.kind: parameter_estimation``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from sensing.contracts.analysis import Analysis, format_table, sweep_dims
from sensing.contracts.states import GaussianState, ThermalLight
from sensing.physics.statistics import spread_relative_error
from sensing.analyzers.estimation import maximum_likelihood, unidentifiable_parameters
from sensing.analyzers.fisher import detector_fisher_information, quantum_fisher_information


class ParameterEstimationSettings(BaseModel):
    """Config of ``analysis.kind: parameter_estimation``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["parameter_estimation"] = "parameter_estimation"
    estimate: list[str] | None = Field(
        None, min_length=1, description="scene parameters to estimate (default: the scene's first parameter)"
    )
    precision: dict[str, float | str] | None = Field(
        None,
        description="scenes with physical units: target standard deviation per estimated parameter, in the scene's "
        "units or with a unit (e.g. {separation: '1 mas'}), for observing_time_to_precision (default: 10% of the true value)",
    )


#: Variables of a results dataset (the schema documented in the README).
SCHEMA = {
    "true_value": "true parameter values",
    "photons_per_copy": "mean photons per copy reaching the detectors",
    "detected_photons_per_copy": "mean detected signal photons per copy",
    "fisher_information_matrix": "classical Fisher information matrix per copy",
    "fisher_information": "classical Fisher information per copy (diagonal)",
    "fisher_information_per_photon": "fisher_information / photons_per_copy",
    "quantum_fisher_information_matrix": "quantum Fisher information matrix per copy",
    "quantum_fisher_information": "quantum Fisher information per copy (diagonal)",
    "quantum_fisher_information_per_photon": "quantum_fisher_information / photons_per_copy",
    "estimate": "maximum-likelihood estimate in each simulated experiment",
    "bias": "mean of estimate - true_value over repetitions",
    "mse": "mean squared error over repetitions",
    "crb": "Cramer-Rao bound [J^-1]_pp / copies of the detector",
    "quantum_crb": "quantum Cramer-Rao bound [F_Q^-1]_pp / copies",
    "efficiency": "crb / mse (1 = efficient estimator)",
    "mse_standard_error": "standard error of mse from the repetitions, std(error^2) / sqrt(repetitions): mse "
                          "below a bound by less than about 2 of these is sampling noise",
    "biased": "1 where the mean estimate differs from the true value by more than 3 standard errors: the "
              "estimator is biased there (e.g. pinned at the bound 0 with few photons), and the Cramer-Rao "
              "bounds, which hold for unbiased estimators, need not bound its mse",
}


class ParameterEstimation(Analysis):
    """Fisher information per copy of every detector, the quantum Fisher information of the
    state, and maximum-likelihood estimates from simulated data at every copy checkpoint."""

    kind = "parameter_estimation"

    Settings = ParameterEstimationSettings
    schema = SCHEMA
    result_dims = frozenset({"detector", "parameter", "parameter2", "copies", "repetition"})
    scene_provides = frozenset({GaussianState})
    detector_capabilities = frozenset({"likelihood"})

    @classmethod
    def check(cls, settings, scene_cls, detector_classes):
        known = list(scene_cls.parameter_names)
        names = settings.estimate or known[:1]
        problems = [f"analysis.estimate.{i}: {n!r} is not a parameter of source kind {scene_cls.kind!r}; allowed: {known}"
                    for i, n in enumerate(names) if n not in known]
        if len(set(names)) != len(names):
            problems.append(f"analysis.estimate: parameters listed twice: {names}")
        for key in settings.precision or {}:
            if key not in names:
                problems.append(f"analysis.precision.{key}: {key!r} is not estimated; estimated: {names}")
        return problems

    @classmethod
    def target_parameters(cls, settings, scene_cls):
        return list(settings.estimate or scene_cls.parameter_names[:1])

    def names(self, scene) -> list[str]:
        return list(self.settings.estimate or scene.parameter_names[:1])

    def analyze_detector(self, scene, detector, statistics, seed=None):
        """Fisher information per copy, estimates at every checkpoint, and identifiability.

        ``identifiability`` holds, from :func:`~sensing.analyzers.estimation.unidentifiable_parameters`,
        ``crb_per_copy`` (inf for parameters the statistic cannot identify: a singular Fisher
        information matrix), ``unidentifiable`` (their names) and ``reason`` (a sentence for
        the dataset's attributes; empty when the matrix is regular).
        """
        names = self.names(scene)
        closed_form = ThermalLight in scene.provides
        derivatives = None if closed_form else scene.state_derivatives(names)
        fisher = detector_fisher_information(scene, detector, names, derivatives)
        model = detector.outcome_model(scene.prepare(detector.accepts))
        detected = float(np.sum(model.signal_mean()))
        checkpoints, reps = statistics["copies"].shape[:2]
        flat = {k: np.reshape(v, (checkpoints * reps, *np.shape(v)[2:])) for k, v in statistics.items()}
        estimates = maximum_likelihood(scene, detector, flat, names).reshape(checkpoints, reps, len(names))
        return {"fisher": fisher, "estimates": estimates, "detected_photons_per_copy": detected, "names": names,
                "identifiability": unidentifiable_parameters(fisher, names)}

    def target_error(self, scene, detector, statistics, parameter):
        """The spread of the repetitions' estimates at one checkpoint (see
        :func:`sensing.physics.statistics.spread_relative_error`)."""
        names = self.names(scene)
        estimates = maximum_likelihood(scene, detector, {k: v[0] for k, v in statistics.items()}, names)
        return spread_relative_error(estimates[:, names.index(parameter)])

    def analyze_scene(self, scene, references=()):
        names = self.names(scene)
        out = {
            "quantum_fisher": quantum_fisher_information(scene, names),
            "true": np.array([scene.parameters[n].value for n in names]),
            "photons_per_copy": scene.photons_per_copy,
            "units": {n: scene.parameters[n].unit for n in names},
            "names": names,
        }
        rate = scene.copies_per_second() if hasattr(scene, "copies_per_second") else None
        if rate is not None:  # a scene in physical units: observing times
            out["copies_per_second"] = float(rate)
            out["precision"] = np.array([self._precision(scene, n) for n in names])
            out["physical"] = scene.physical() if hasattr(scene, "physical") else {}
        if getattr(scene, "psf_basis", None) is not None:  # a non-Gaussian PSF in a finite adapted basis
            out["basis_error"] = scene.basis_error()
            out["psf"] = scene.psf_name
        return out

    def _precision(self, scene, name: str) -> float:
        """Target standard deviation of ``name`` in the scene's units (default 10% of the true value)."""
        given = (self.settings.precision or {}).get(name)
        unit = scene.parameters[name].unit
        if given is None:
            return 0.1 * abs(scene.parameters[name].value) or float("nan")
        if isinstance(given, str):
            import astropy.units as u

            try:
                quantity = u.Quantity(given)
                return float(quantity.value if quantity.unit == u.dimensionless_unscaled else quantity.to_value(u.Unit(unit)))
            except (TypeError, ValueError) as err:
                raise ValueError(f"analysis.precision.{name}: cannot read {given!r} in the scene's unit {unit!r}: {err}") from None
        return float(given)

    def point_dataset(self, config, scene_result, detector_results, detector_names):
        ds = point_estimation_dataset(config, detector_names, scene_result, detector_results)
        return _telescope_variables(ds, scene_result)

    def plots(self, ds, out):
        from sensing.analyzers.plots import make_plots

        return make_plots(ds, Path(out))

    def summary(self, ds):
        return estimation_summary(ds)


def _inverse_diagonal(matrix: np.ndarray) -> np.ndarray:
    """Diagonal of the inverse of the trailing (p, p) matrices; inf where singular."""
    out = np.full(matrix.shape[:-1], np.inf)
    flat_m = matrix.reshape(-1, *matrix.shape[-2:])
    flat_o = out.reshape(-1, matrix.shape[-1])
    for i, m in enumerate(flat_m):
        if np.all(np.isfinite(m)) and np.linalg.matrix_rank(m, tol=1e-12 * max(np.abs(m).max(), 1e-300)) == m.shape[0]:
            flat_o[i] = np.diag(np.linalg.inv(m))
    return out


def point_estimation_dataset(config, detector_names: list[str], scene_result: dict, detector_results: list[dict]) -> xr.Dataset:
    """One sweep point's results dataset (the README schema, without sweep dims)."""
    names = list(scene_result["names"])
    copies = np.asarray(config.copies)
    qfi = np.asarray(scene_result["quantum_fisher"])
    fim = np.stack([d["fisher"] for d in detector_results])
    coords = {"detector": detector_names, "parameter": names, "parameter2": names, "copies": copies,
              "repetition": np.arange(config.repetitions)}
    # numpy first, one Dataset at the end: assigning variables one by one cost xarray about
    # 50 ms per sweep point (alignment and index checks for every assignment).
    true = np.asarray(scene_result["true"], dtype=float)
    photons = float(scene_result["photons_per_copy"])
    fisher = np.diagonal(fim, axis1=-2, axis2=-1)
    quantum = np.diagonal(qfi).copy()
    estimate = np.stack([d["estimates"] for d in detector_results])  # (detector, copies, repetition, parameter)
    error = estimate - true
    bias = error.mean(axis=2)
    mse = (error**2).mean(axis=2)
    crb = _inverse_diagonal(fim)[:, None, :] / copies[None, :, None]  # (detector, copies, parameter)
    quantum_crb = _inverse_diagonal(qfi)[None, :] / copies[:, None]  # (copies, parameter)
    ds = xr.Dataset({
        "true_value": ("parameter", true),
        "photons_per_copy": ((), photons),
        "detected_photons_per_copy": ("detector", np.array([d["detected_photons_per_copy"] for d in detector_results])),
        "fisher_information_matrix": (("detector", "parameter", "parameter2"), fim),
        "fisher_information": (("detector", "parameter"), fisher),
        "quantum_fisher_information_matrix": (("parameter", "parameter2"), qfi),
        "quantum_fisher_information": ("parameter", quantum),
        "fisher_information_per_photon": (("detector", "parameter"), fisher / photons),
        "quantum_fisher_information_per_photon": ("parameter", quantum / photons),
        "estimate": (("detector", "copies", "repetition", "parameter"), estimate),
        "bias": (("detector", "copies", "parameter"), bias),
        "mse": (("detector", "copies", "parameter"), mse),
        "crb": (("detector", "copies", "parameter"), crb),
        "quantum_crb": (("copies", "parameter"), quantum_crb),
        "efficiency": (("detector", "copies", "parameter"), crb / mse),
        "mse_standard_error": (("detector", "copies", "parameter"),
                               (error**2).std(axis=2, ddof=1) / np.sqrt(error.shape[2]) if error.shape[2] > 1
                               else np.full(mse.shape, np.nan)),
        "biased": (("detector", "copies", "parameter"), _significant_bias(error)),
    }, coords=coords)
    units = scene_result["units"]
    common = set(units.values())
    unit = common.pop() if len(common) == 1 else None
    for name, text in SCHEMA.items():
        ds[name].attrs["long_name"] = text
        ds[name].attrs["description"] = text
        per = UNITS.get(name)
        if per is not None and unit is not None:
            ds[name].attrs["units"] = per.format(u=unit) if unit else "1"
    reasons = {name: d["identifiability"]["reason"] for name, d in zip(detector_names, detector_results)
               if d.get("identifiability", {}).get("reason")}
    if reasons:  # crb = inf there: the statistic cannot identify these parameters
        for name in ("crb", "efficiency"):
            ds[name].attrs["unidentifiable"] = json.dumps(reasons)
    ds = ds.transpose("detector", "copies", "repetition", "parameter", "parameter2", missing_dims="ignore")
    ds.attrs["units"] = json.dumps(units)
    return ds


def _significant_bias(error: np.ndarray) -> np.ndarray:
    """1 where the mean error over repetitions (axis 2) is beyond 3 standard errors of the mean, else 0."""
    reps = error.shape[2]
    if reps < 2:
        return np.zeros(error.shape[:2] + error.shape[3:], dtype=np.int8)
    mean = error.mean(axis=2)
    spread = error.std(axis=2, ddof=1) / np.sqrt(reps)
    return (np.abs(mean) > 3 * spread).astype(np.int8)


#: CF ``units`` of the variables, in the parameters' unit ``u`` (set when all parameters share one).
UNITS = {"true_value": "{u}", "estimate": "{u}", "bias": "{u}", "mse": "{u}^2", "crb": "{u}^2", "quantum_crb": "{u}^2",
         "fisher_information": "{u}^-2", "quantum_fisher_information": "{u}^-2",
         "fisher_information_per_photon": "{u}^-2", "quantum_fisher_information_per_photon": "{u}^-2",
         "fisher_information_matrix": "{u}^-2", "quantum_fisher_information_matrix": "{u}^-2",
         "photons_per_copy": "1", "detected_photons_per_copy": "1", "efficiency": "1", "biased": "1",
         "mse_standard_error": "{u}^2"}


#: Variables added for scenes in physical units or with a non-Gaussian PSF (additive to SCHEMA).
TELESCOPE_SCHEMA = {
    "copies_per_second": ("temporal modes (copies) per second, the optical bandwidth c dlambda / lambda^2", "s-1"),
    "photons_per_second": ("mean photons per second from both sources at the detectors' input", "s-1"),
    "precision": ("target standard deviation of each estimated parameter", "{u}"),
    "observing_time_to_precision": ("observing time for the detector's Cramer-Rao bound to reach precision: "
                                    "[J^-1]_pp / (precision^2 copies_per_second)", "s"),
    "quantum_observing_time_to_precision": ("observing time for the quantum Cramer-Rao bound to reach precision", "s"),
    "crb_at_observing_time": ("Cramer-Rao bound (variance) after source.observing_time", "{u}2"),
    "quantum_crb_at_observing_time": ("quantum Cramer-Rao bound (variance) after source.observing_time", "{u}2"),
    "true_value_rad": ("true parameter values in radians (angles on the sky)", "rad"),
    "true_value_lambda_over_d": ("true parameter values in units of lambda/D (abstract coordinate; NaN: not an angle)", "1"),
    "basis_error": ("weight of the sources' PSFs outside the finite image-plane mode basis (QFI and detector "
                    "statistics are exact for the state projected on it)", "1"),
}


def _telescope_variables(ds: xr.Dataset, scene_result: dict) -> xr.Dataset:
    """Observing times and physical coordinates (only for scenes that have them; other datasets unchanged)."""
    if "basis_error" in scene_result:
        ds["basis_error"] = ((), float(scene_result["basis_error"]))
        ds.attrs["psf"] = scene_result["psf"]
    if "copies_per_second" in scene_result:
        import astropy.units as u

        rate = scene_result["copies_per_second"]
        precision = xr.DataArray(scene_result["precision"], dims=("parameter",))
        fim = ds["fisher_information_matrix"].values
        qfi = ds["quantum_fisher_information_matrix"].values
        ds["copies_per_second"] = ((), rate)
        ds["photons_per_second"] = ((), float(scene_result["photons_per_copy"]) * rate)
        ds["precision"] = precision
        ds["observing_time_to_precision"] = xr.DataArray(_inverse_diagonal(fim), dims=("detector", "parameter")) / (precision**2 * rate)
        ds["quantum_observing_time_to_precision"] = xr.DataArray(_inverse_diagonal(qfi), dims=("parameter",)) / (precision**2 * rate)
        physical = scene_result.get("physical", {})
        if "observing_time_s" in physical:
            copies = physical["observing_time_s"] * rate
            ds["crb_at_observing_time"] = xr.DataArray(_inverse_diagonal(fim), dims=("detector", "parameter")) / copies
            ds["quantum_crb_at_observing_time"] = xr.DataArray(_inverse_diagonal(qfi), dims=("parameter",)) / copies
        to_rad = []
        for name in ds["parameter"].values:
            unit = scene_result["units"][str(name)]
            try:
                to_rad.append(float(u.Unit(unit).to(u.rad)))
            except (ValueError, u.UnitConversionError):
                to_rad.append(np.nan)
        ds["true_value_rad"] = ds["true_value"] * xr.DataArray(np.array(to_rad), dims=("parameter",))
        if physical.get("lambda_over_d"):  # the abstract coordinate: angles in units of lambda/D
            angular = xr.DataArray(np.isfinite(to_rad), dims=("parameter",))
            ds["true_value_lambda_over_d"] = (ds["true_value"] / physical["lambda_over_d"]).where(angular)
        for key, value in physical.items():
            ds.attrs[f"telescope_{key}"] = value
    units = set(scene_result["units"].values())
    unit = units.pop() if len(units) == 1 else None
    for name, (text, per) in TELESCOPE_SCHEMA.items():
        if name in ds:
            ds[name].attrs["long_name"] = text
            ds[name].attrs["description"] = text
            if "{u}" not in per or unit:
                ds[name].attrs["units"] = per.format(u=unit)
    return ds.transpose("detector", "copies", "repetition", "parameter", "parameter2", missing_dims="ignore")


def observing_time_summary(ds: xr.Dataset) -> str:
    """A text table of observing times in hours (scenes in physical units)."""
    first = str(ds["parameter"].values[0])
    sweep = sweep_dims(ds)
    stacked = ds.stack(point=sweep) if sweep else ds.expand_dims(point=[0])
    unit = ds["true_value"].attrs.get("units", "")
    header = [*sweep, "detector", f"precision({first})", "hours to precision", "quantum limit (h)", "loss factor"]
    rows = []
    for i in range(stacked.sizes["point"]):
        p = stacked.isel(point=i)
        coords = [f"{p[d].item():.4g}" if isinstance(p[d].item(), float) else str(p[d].item()) for d in sweep]
        quantum = float(p["quantum_observing_time_to_precision"].sel(parameter=first)) / 3600
        for det in ds["detector"].values:
            hours = float(p["observing_time_to_precision"].sel(detector=det, parameter=first)) / 3600
            rows.append(coords + [str(det), f"{float(p['precision'].sel(parameter=first)):.3g} {unit}".strip(),
                                  f"{hours:.3g}", f"{quantum:.3g}", f"{hours / quantum:.3g}" if quantum > 0 else "n/a"])
    return format_table(header, rows)


def estimation_summary(ds: xr.Dataset) -> str:
    """A text table: per sweep point and detector, information per photon and estimator efficiency."""
    first = str(ds["parameter"].values[0])
    sweep = sweep_dims(ds)
    largest = ds["copies"].values[-1]
    header = [*sweep, "detector", f"J/photon({first})", "J/QFI", f"sqrt(mse)@{largest:.0e}", "sqrt(crb)", "efficiency"]
    rows = []
    stacked = ds.stack(point=sweep) if sweep else ds.expand_dims(point=[0])
    for i in range(stacked.sizes["point"]):
        p = stacked.isel(point=i)
        coords = [f"{p[d].item():.4g}" if isinstance(p[d].item(), float) else str(p[d].item()) for d in sweep]
        q = float(p["quantum_fisher_information_per_photon"].sel(parameter=first))
        for det in ds["detector"].values:
            s = p.sel(detector=det, parameter=first)
            j = float(s["fisher_information_per_photon"])
            last = s.sel(copies=largest)
            rows.append(coords + [str(det), f"{j:.4g}", f"{j / q:.3f}" if q > 0 else "n/a",
                                  f"{np.sqrt(float(last['mse'])):.3g}", f"{np.sqrt(float(last['crb'])):.3g}",
                                  f"{float(last['efficiency']):.2f}"])
    table = format_table(header, rows)
    if "observing_time_to_precision" in ds:
        table += "\n\nobserving time to the target precision (Cramer-Rao bound per detector; copies = time x bandwidth)\n"
        table += observing_time_summary(ds)
    return table
