r"""Telescope-array interferometry: information, quantum limit, observing time and entanglement
of each scheme (``analysis.kind: interferometry``; docs/interferometry.md, PHYSICS.md §3).

Per sweep point (e.g. a baseline) and scheme: the exact Fisher information per temporal mode
(copy) of the recorded count patterns for the visibility amplitude :math:`|g|` and phase
:math:`\varphi` of the combined aperture pair, and by the chain rule
:math:`F_\theta = J^TF_{(|g|,\varphi)}J` for the source parameters; its leading-order closed
form; the quantum Fisher information of the thermal state (exact Gaussian and leading order);
copies and observing time to a target precision (Cramer-Rao); ebits consumed; and a fringe
estimator of the complex visibility from the reduced statistics with its mean squared error
against copies, next to the Cramer-Rao bound.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from sensing.contracts.analysis import Analysis, format_table, sweep_dims
from sensing.contracts.states import ApertureLight
from sensing.physics.interferometry import (
    gjc_ebits_per_detected_photon,
    kbdl_ebits_per_detected_photon,
    quantum_fisher_information_leading_order,
    source_fisher_information,
    thermal_quantum_fisher_information,
    visibility_jacobian,
)

VISIBILITY = ("amplitude", "phase")


class InterferometrySettings(BaseModel):
    """Config of ``analysis.kind: interferometry``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["interferometry"] = "interferometry"
    apertures: tuple[int, int] = Field((0, 1), description="the aperture pair whose visibility is reported")
    source_parameters: list[str] | None = Field(
        None, min_length=1, description="source parameters to report (default: those of the scene's model)"
    )
    target_visibility_error: float = Field(0.01, gt=0.0, description="target standard deviation of |g| and of phi (rad)")
    target_relative_error: float = Field(0.01, gt=0.0, lt=1.0, description="target relative standard deviation of source parameters")


SCHEMA = {
    "baseline_length": "length of the baseline of the aperture pair",
    "photons_per_aperture": "mean photons per aperture per temporal mode",
    "photons_per_mode": "mean photons per temporal mode in both apertures (epsilon)",
    "copies_per_second": "temporal modes per second of the source (bandwidth in Hz)",
    "visibility_true": "true visibility amplitude |g| and phase phi of the pair",
    "source_value": "true values of the source parameters",
    "quantum_fisher_visibility": "quantum Fisher information per temporal mode (exact Gaussian)",
    "quantum_fisher_visibility_leading_order": "quantum Fisher information per temporal mode, leading order (PHYSICS 3.3)",
    "quantum_fisher_source": "quantum Fisher information per temporal mode for the source parameters",
    "fisher_visibility": "Fisher information per temporal mode of the scheme's count patterns",
    "fisher_visibility_closed_form": "leading-order closed form of fisher_visibility",
    "fisher_visibility_per_photon": "fisher_visibility per detected star photon",
    "fisher_source": "Fisher information per temporal mode for the source parameters",
    "detected_photons_per_mode": "mean detected star photons per temporal mode",
    "ebits_per_copy": "ebits consumed per temporal mode",
    "ebits_per_detected_photon": "ebits consumed per detected star photon",
    "scheme_copies_per_second": "temporal modes per second the scheme can use (bandwidth, or the entanglement rate)",
    "copies_to_precision_visibility": "temporal modes for the target precision on |g| and phi (Cramer-Rao)",
    "copies_to_precision_source": "temporal modes for the target relative precision on each source parameter",
    "observing_time_visibility": "observing time for the target precision on |g| and phi",
    "observing_time_source": "observing time for the target precision on each source parameter",
    "estimate_visibility": "fringe estimate of |g| and phi in each simulated experiment",
    "mse_visibility": "mean squared error of the estimates over repetitions",
    "crb_visibility": "Cramer-Rao bound of the recorded copies",
}

UNITS = {"baseline_length": "m", "photons_per_aperture": "1", "photons_per_mode": "1", "copies_per_second": "s-1",
         "ebits_per_copy": "1", "ebits_per_detected_photon": "1", "scheme_copies_per_second": "s-1",
         "copies_to_precision_visibility": "1", "copies_to_precision_source": "1",
         "observing_time_visibility": "s", "observing_time_source": "s", "detected_photons_per_mode": "1"}
#: Variables along ``visibility_parameter``: amplitude is a pure number, phase in radians.
VISIBILITY_UNITS = {"visibility_true": ("1", "rad"), "estimate_visibility": ("1", "rad"), "mse_visibility": ("1", "rad2"),
                    "crb_visibility": ("1", "rad2"), "quantum_fisher_visibility": ("1", "rad-2"),
                    "quantum_fisher_visibility_leading_order": ("1", "rad-2"), "fisher_visibility": ("1", "rad-2"),
                    "fisher_visibility_closed_form": ("1", "rad-2"), "fisher_visibility_per_photon": ("1", "rad-2")}


def _inverse_diagonal(matrix: np.ndarray) -> np.ndarray:
    """Diagonal of the inverse over the identifiable block (nonzero diagonal); inf elsewhere."""
    m = np.asarray(matrix, dtype=float)
    out = np.full(m.shape[0], np.inf)
    live = np.diag(m) > 1e-300 * max(1.0, np.abs(m).max())
    if live.any():
        block = m[np.ix_(live, live)]
        try:
            inv = np.linalg.inv(block)
            if np.all(np.isfinite(inv)) and np.linalg.cond(block) < 1e14:
                out[live] = np.where(np.diag(inv) > 0, np.diag(inv), np.inf)
        except np.linalg.LinAlgError:
            pass
    return out


class Interferometry(Analysis):
    """Information, quantum limit, observing time and entanglement of long-baseline schemes."""

    kind = "interferometry"
    Settings = InterferometrySettings
    schema = SCHEMA
    result_dims = frozenset({"detector", "visibility_parameter", "source_parameter", "copies", "repetition"})
    scene_provides = frozenset({ApertureLight})
    detector_capabilities = frozenset({"visibility"})

    @classmethod
    def check(cls, settings, scene_cls, detector_classes):
        known = list(scene_cls.parameter_names)
        return [f"analysis.source_parameters.{i}: {n!r} is not a parameter of source kind {scene_cls.kind!r}; allowed: {known}"
                for i, n in enumerate(settings.source_parameters or []) if n not in known]

    def _names(self, scene) -> list[str]:
        return list(self.settings.source_parameters or scene.source_parameters())

    def _pair(self, scene):
        i, j = self.settings.apertures
        if max(i, j) >= scene.num_apertures:
            raise ValueError(f"analysis.apertures {[i, j]}: the scene has {scene.num_apertures} apertures")
        g, dg = scene.visibility()
        return complex(g[i, j]), np.array([dg[n][i, j] for n in self._names(scene)])

    def _jacobian(self, scene):
        g, dg = self._pair(scene)
        if abs(g) == 0:
            return np.full((2, len(dg)), np.nan)
        return visibility_jacobian(g, dg)

    def analyze_scene(self, scene, references=()):
        i, j = self.settings.apertures
        g, _ = self._pair(scene)
        light = scene.prepare(ApertureLight)
        pair = np.asarray(light.correlation)[[i, j]][:, [i, j]]
        nbar = scene.photons_per_aperture
        eps = 2 * nbar
        derivatives = np.stack([
            nbar * np.array([[0, g / abs(g)], [np.conj(g / abs(g)), 0]]) if abs(g) > 0 else np.zeros((2, 2)),
            np.array([[0, 1j * pair[0, 1]], [np.conj(1j * pair[0, 1]), 0]]),
        ])
        if 0 < abs(g) < 1 - 1e-9:
            qfi = thermal_quantum_fisher_information(pair, derivatives)
            leading = quantum_fisher_information_leading_order(eps, g)
        else:  # |g| = 1: a boundary of the state space, the amplitude QFI diverges
            qfi = np.diag([np.inf, eps * abs(g) ** 2])
            leading = np.diag([np.inf, eps * abs(g) ** 2])
        jac = self._jacobian(scene)
        finite = np.where(np.isfinite(qfi), qfi, 0.0)
        names = self._names(scene)
        return {
            "g": np.array([abs(g), np.angle(g)]), "qfi": qfi, "qfi_leading": leading,
            "qfi_source": np.diag(source_fisher_information(finite, np.nan_to_num(jac))) if np.all(np.isfinite(qfi)) else
            np.diag(source_fisher_information(np.diag([0.0, qfi[1, 1]]), np.nan_to_num(jac))),
            "names": names, "values": np.array([scene.parameters[n].value for n in names]),
            "nbar": nbar, "eps": eps, "rate": scene.copies_per_second(),
            "baseline": float(np.linalg.norm(scene.positions[j] - scene.positions[i])),
            "jacobian": np.nan_to_num(jac),
        }

    def analyze_detector(self, scene, detector, statistics, seed=None):
        light = scene.prepare(ApertureLight)
        model = detector.outcome_model(light)
        modes = model.temporal_modes_per_copy
        per_record = model.visibility_fisher()
        fisher = per_record / modes
        jac = self._jacobian(scene)
        source = np.diag(source_fisher_information(fisher, np.nan_to_num(jac)))
        rate = scene.copies_per_second()
        limit = model.copies_per_second_limit
        usable = np.nan if rate is None else (rate if limit is None else min(rate, limit))
        checkpoints = statistics["copies"].shape[0]
        estimates = [model.estimate_visibility({k: v[c] for k, v in statistics.items()}) for c in range(checkpoints)]
        estimates = np.stack(estimates) if estimates else np.zeros((0, 0, 2))
        return {
            "fisher": fisher, "per_record": per_record, "closed_form": model.closed_form_fisher(),
            "source": source, "detected": model.detected_photons_per_copy / modes,
            "ebits_copy": model.ebits_per_copy / modes, "ebits_photon": model.ebits_per_detected_photon,
            "usable_rate": usable, "estimates": estimates, "modes": modes,
        }

    def point_dataset(self, config, scene_result, detector_results, detector_names):
        s = self.settings
        names = scene_result["names"]
        copies = np.asarray(config.copies)
        ds = xr.Dataset(coords={"detector": detector_names, "visibility_parameter": list(VISIBILITY),
                                "source_parameter": names, "copies": copies,
                                "repetition": np.arange(config.repetitions)})
        modulus, phase = np.asarray(scene_result["g"], dtype=float)
        ds["baseline_length"] = ((), scene_result["baseline"])
        ds["photons_per_aperture"] = ((), scene_result["nbar"])
        ds["photons_per_mode"] = ((), scene_result["eps"])
        ds["copies_per_second"] = ((), np.nan if scene_result["rate"] is None else scene_result["rate"])
        ds["visibility_true"] = ("visibility_parameter", np.array([modulus, phase]))
        ds["source_value"] = ("source_parameter", scene_result["values"])
        ds["quantum_fisher_visibility"] = ("visibility_parameter", np.diag(scene_result["qfi"]).copy())
        ds["quantum_fisher_visibility_leading_order"] = ("visibility_parameter", np.diag(scene_result["qfi_leading"]).copy())
        ds["quantum_fisher_source"] = ("source_parameter", scene_result["qfi_source"])
        fim = np.stack([d["fisher"] for d in detector_results])
        ds["fisher_visibility"] = (("detector", "visibility_parameter"), np.diagonal(fim, axis1=-2, axis2=-1).copy())
        ds["fisher_visibility_closed_form"] = (("detector", "visibility_parameter"),
                                               np.stack([np.diag(d["closed_form"]) for d in detector_results]))
        detected = np.array([d["detected"] for d in detector_results])
        ds["detected_photons_per_mode"] = ("detector", detected)
        ds["fisher_visibility_per_photon"] = ds["fisher_visibility"] / ds["detected_photons_per_mode"]
        ds["fisher_source"] = (("detector", "source_parameter"), np.stack([d["source"] for d in detector_results]))
        ds["ebits_per_copy"] = ("detector", np.array([d["ebits_copy"] for d in detector_results]))
        ds["ebits_per_detected_photon"] = ("detector", np.array([d["ebits_photon"] for d in detector_results]))
        ds["scheme_copies_per_second"] = ("detector", np.array([d["usable_rate"] for d in detector_results]))
        target_v = s.target_visibility_error
        ds["copies_to_precision_visibility"] = (("detector", "visibility_parameter"),
                                                np.stack([_inverse_diagonal(f) / target_v**2 for f in fim]))
        values = np.abs(scene_result["values"])
        target_s = np.where(values > 0, s.target_relative_error * values, np.nan)
        source_copies = []
        for d in detector_results:
            jac = scene_result["jacobian"]
            matrix = source_fisher_information(d["fisher"], jac)
            source_copies.append(_inverse_diagonal(matrix) / target_s**2)
        ds["copies_to_precision_source"] = (("detector", "source_parameter"), np.stack(source_copies))
        ds["observing_time_visibility"] = ds["copies_to_precision_visibility"] / ds["scheme_copies_per_second"]
        ds["observing_time_source"] = ds["copies_to_precision_source"] / ds["scheme_copies_per_second"]
        est = np.stack([d["estimates"] for d in detector_results])  # (det, copies, rep, 2)
        ds["estimate_visibility"] = (("detector", "copies", "repetition", "visibility_parameter"), est)
        error = est - ds["visibility_true"].values
        error[..., 1] = np.angle(np.exp(1j * error[..., 1]))  # phase error wrapped to (-pi, pi]
        ds["mse_visibility"] = (("detector", "copies", "visibility_parameter"), np.mean(error**2, axis=2))
        crb = np.stack([_inverse_diagonal(d["per_record"]) for d in detector_results])  # per recorded copy
        ds["crb_visibility"] = (("detector", "copies", "visibility_parameter"), crb[:, None, :] / copies[None, :, None])
        for name, text in SCHEMA.items():
            ds[name].attrs["long_name"] = text
            if name in UNITS:
                ds[name].attrs["units"] = UNITS[name]
            if name in VISIBILITY_UNITS:
                ds[name].attrs["units"] = "1"
                ds[name].attrs["units_by_visibility_parameter"] = json.dumps(dict(zip(VISIBILITY, VISIBILITY_UNITS[name])))
        for name in ("source_value", "quantum_fisher_source", "fisher_source"):
            power = {"source_value": 1, "quantum_fisher_source": -2, "fisher_source": -2}[name]
            ds[name].attrs["units_by_source_parameter"] = json.dumps(
                {n: ("1" if n == "flux_ratio" else ("rad" if power == 1 else "rad-2")) for n in names})
        ds["crb_visibility"].attrs["note"] = "inverse Fisher information of the recorded copies (time bins for intensity)"
        ds.attrs["detector_kinds"] = json.dumps({d.name: d.kind for d in config.detectors})
        ds.attrs["temporal_modes_per_copy"] = json.dumps({n: d["modes"] for n, d in zip(detector_names, detector_results)})
        return ds

    # -- plots and summary -----------------------------------------------------------------
    def plots(self, ds, out):
        return interferometry_plots(ds, Path(out))

    def summary(self, ds):
        return interferometry_summary(ds)


def _baseline_dim(ds):
    """The sweep dim along which the baseline length changes (None if it does not)."""
    for d in sweep_dims(ds):
        if d in ds["baseline_length"].dims and ds.sizes[d] > 1:
            values = _fix(ds, d)["baseline_length"].values
            if np.ptp(values) > 0:
                return d
    return None


def _fix(ds, keep):
    others = {d: 0 for d in sweep_dims(ds) if d != keep}
    return ds.isel(others) if others else ds


def interferometry_plots(ds: xr.Dataset, out: Path) -> list[Path]:
    """Information vs baseline per scheme (log-log), ebits per detected photon vs photons per mode,
    observing time vs baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sensing.analyzers.plots import plain_log_labels  # log labels without mathtext parsing

    out.mkdir(parents=True, exist_ok=True)
    files = []
    dim = _baseline_dim(ds)
    sub = _fix(ds, dim)
    if dim is not None:
        x = sub["baseline_length"].values / 1e3
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, par in zip(axes, VISIBILITY):
            for det in sub["detector"].values:
                y = sub["fisher_visibility"].sel(detector=det, visibility_parameter=par).values
                ax.plot(x, np.where(y > 0, y, np.nan), "o-", label=str(det))
            q = sub["quantum_fisher_visibility"].sel(visibility_parameter=par).values
            ax.plot(x, np.where(np.isfinite(q), q, np.nan), "k--", label="QFI")
            ax.set_xscale("log")
            ax.set_yscale("log")
            plain_log_labels(ax)
            ax.set_xlabel("baseline [km]")
            ax.set_ylabel(f"Fisher information per copy ({'|g|' if par == 'amplitude' else 'phase, rad^-2'})")
            ax.legend(fontsize=7)
        fig.suptitle("information per temporal mode against baseline (the direct curve falls with the link transmission)")
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.9, wspace=0.3)
        path = out / "information_vs_baseline.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
        fig, ax = plt.subplots(figsize=(6, 4.2))
        for det in sub["detector"].values:
            y = sub["observing_time_visibility"].sel(detector=det, visibility_parameter="phase").values
            ax.plot(x, np.where(np.isfinite(y) & (y > 0), y, np.nan), "o-", label=str(det))
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_labels(ax)
        ax.set_xlabel("baseline [km]")
        ax.set_ylabel("observing time to the target phase precision [s]")
        ax.legend(fontsize=7)
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.9, wspace=0.3)
        path = out / "observing_time_vs_baseline.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    eps = np.logspace(-6, -1, 60)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.plot(eps, gjc_ebits_per_detected_photon(eps), label="GJC: 1/eps")
    ax.plot(eps, kbdl_ebits_per_detected_photon(eps), label="KBDL: log2(1/eps)")
    flat = ds.stack(point=sweep_dims(ds)) if sweep_dims(ds) else ds.expand_dims(point=[0])
    for det in ds["detector"].values:
        y = flat["ebits_per_detected_photon"].sel(detector=det).values
        xs = flat["detected_photons_per_mode"].sel(detector=det).values
        good = np.isfinite(y) & (y > 0)
        if good.any():
            ax.plot(xs[good], y[good], "o", label=f"{det} (this run)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_labels(ax)
    ax.set_xlabel("detected photons per temporal mode")
    ax.set_ylabel("ebits per detected photon")
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.9, wspace=0.3)
    path = out / "ebits_per_photon.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    files.append(path)
    return files


def _crossovers(ds) -> list[str]:
    """Baselines (log-interpolated) where a quantum-network scheme overtakes direct detection, in
    phase information per copy and in observing time to the target phase precision."""
    dim = _baseline_dim(ds)
    if dim is None:
        return []
    sub = _fix(ds, dim)
    kinds = json.loads(ds.attrs.get("detector_kinds", "{}"))
    direct = [d for d in sub["detector"].values if kinds.get(str(d)) == "direct"]
    others = [d for d in sub["detector"].values if kinds.get(str(d)) in ("entanglement_assisted", "memory_array")]
    lines = []
    x = sub["baseline_length"].values
    measures = (("fisher_visibility", 1.0, "phase information per copy"),
                ("observing_time_visibility", -1.0, "observing time to the target phase precision"))
    for variable, sign, what in measures:
        for a in direct:
            fa = sign * np.log(sub[variable].sel(detector=a, visibility_parameter="phase").values)
            for b in others:
                fb = sign * np.log(sub[variable].sel(detector=b, visibility_parameter="phase").values)
                if not (np.all(np.isfinite(fa)) and np.all(np.isfinite(fb))):
                    continue
                below = np.nonzero(fa < fb)[0]
                if below.size == 0:
                    lines.append(f"{a} beats {b} over the whole sweep ({what})")
                elif below[0] == 0:
                    lines.append(f"{b} beats {a} over the whole sweep ({what})")
                else:
                    k = below[0]
                    r0, r1 = fa[k - 1] - fb[k - 1], fa[k] - fb[k]
                    t = r0 / (r0 - r1)
                    cross = np.exp(np.log(x[k - 1]) + t * (np.log(x[k]) - np.log(x[k - 1])))
                    lines.append(f"{b} overtakes {a} at a baseline of about {cross / 1e3:.3g} km ({what})")
    return lines


def interferometry_summary(ds: xr.Dataset) -> str:
    sweep = sweep_dims(ds)
    flat = ds.stack(point=sweep) if sweep else ds.expand_dims(point=[0])
    header = [*sweep, "detector", "F_|g|/copy", "F_phase/copy", "F/QFI", "F/closed", "ebits/photon", "t_obs(phase) [s]"]
    rows = []
    for i in range(flat.sizes["point"]):
        p = flat.isel(point=i)
        coords = [f"{p[d].item():.4g}" if isinstance(p[d].item(), float) else str(p[d].item()) for d in sweep]
        q = float(p["quantum_fisher_visibility"].sel(visibility_parameter="phase"))
        for det in ds["detector"].values:
            s = p.sel(detector=det, visibility_parameter="phase")
            f, c = float(s["fisher_visibility"]), float(s["fisher_visibility_closed_form"])
            fa = float(p["fisher_visibility"].sel(detector=det, visibility_parameter="amplitude"))
            rows.append(coords + [str(det), f"{fa:.3e}", f"{f:.3e}", f"{f / q:.3g}" if q > 0 else "n/a",
                                  f"{f / c:.4f}" if c > 0 else "n/a", f"{float(p['ebits_per_detected_photon'].sel(detector=det)):.3g}",
                                  f"{float(s['observing_time_visibility']):.3g}"])
    text = format_table(header, rows)
    extra = _crossovers(ds)
    return text + ("\n\n" + "\n".join(extra) if extra else "")
