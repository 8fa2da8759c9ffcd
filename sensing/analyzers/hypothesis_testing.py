r"""One star or two: hypothesis testing on the ``two_point`` scene (``analysis.kind: hypothesis_testing``).

H0: one source carrying all the light, at the scene's separation 0
(``scene.prepare(ThermalLight, {"separation": 0.0})``); H1: the configured two sources. For every
detector:

* **The detector's law**: from the exact per-copy means of the detector's outcome model
  (efficiency and dark counts included), its outputs as independent Poisson counts
  (number-resolving) or Bernoulli clicks (threshold; exact click probabilities)
  (:class:`~sensing.physics.hypothesis.IndependentOutputs`): exact for weak or coherent light,
  it neglects thermal bunching (order photons_per_copy per detected photon).
* **Exponents per copy** of that law: Chernoff :math:`\xi` and Stein :math:`D(P_0\|P_1)`.
* **Exact error probabilities** of the likelihood-ratio test on the totals of c copies, for
  every counting detector: the Bayes error (symmetric setting) and the miss of the randomised
  Neyman-Pearson test at ``false_alarm`` (asymmetric), with a bound on their numerical error
  (``*_accuracy``): closed-form sums for up to two likelihood-ratio groups, otherwise the law of
  the log ratio on a lattice (exact cell probabilities, tilted FFT convolution, rigorous
  bracket); ``copies_needed`` from them by root finding.
* **Monte Carlo**: the same LRT applied to the pipeline's H1 totals (exact thermal samplers) and
  to H0 totals drawn here from the H0 outcome model with the analysis seed.
* **Quantum limits** from the exact thermal states (any photons per copy): quantum Chernoff
  exponent, quantum relative entropy, Helstrom error of k stored copies (k in ``stored_copies``),
  against the exact error of every (few-output) configured per-copy receiver on k copies
  (:func:`per_copy_receiver_error`) and of the single-copy Helstrom measurement repeated on
  each copy with the optimal decision on the k outcomes.
* **Observing time** when the scene has ``copies_per_second()`` (physical units).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import logsumexp
from scipy.stats import poisson

from sensing.contracts.analysis import Analysis, sweep_dims
from sensing.contracts.seeds import generator
from sensing.contracts.states import ThermalLight
from sensing.physics.hypothesis import (
    IndependentOutputs,
    binary_spade_exponent,
    bayes_error,
    poisson_groups as _groups,
    thermal_chernoff_exponent,
    thermal_density_matrices,
    thermal_helstrom_error,
    thermal_relative_entropy,
    thermal_repeated_helstrom_error,
    two_group_bayes_error,
)


class HypothesisTestingSettings(BaseModel):
    """Config of ``analysis.kind: hypothesis_testing``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["hypothesis_testing"] = "hypothesis_testing"
    prior: float = Field(0.5, gt=0.0, lt=1.0, description="prior probability of H0 (one source) in the symmetric setting")
    false_alarm: float = Field(0.01, gt=0.0, lt=1.0, description="fixed false-alarm rate of the asymmetric (Neyman-Pearson) setting")
    target_error: float = Field(1e-3, gt=0.0, lt=0.5, description="error probability (symmetric) or miss probability (asymmetric) for copies_needed")
    stored_copies: list[int] = Field([1, 2, 4, 8], min_length=1, description="copies k held in a memory for the collective (Helstrom) measurement")
    monte_carlo: bool = Field(True, description="apply the test to simulated data (H1 from the pipeline, H0 drawn by the analysis)")
    max_photons: int = Field(2, ge=1, le=4, description="photon-number blocks kept for the k-copy Helstrom error (truncation reported)")


SETTINGS = ["symmetric", "asymmetric"]

#: Lattice rounding bound used while searching copies_needed (a few per cent on the error
#: probability, well under 1 % on the copies once the exponent dominates).
SEARCH_DELTA = 0.2

SCHEMA = {
    "photons_per_copy": ("mean photons per copy reaching the detectors", "1"),
    "detected_photons_per_copy": ("mean detected signal photons per copy under H1", "1"),
    "chernoff_exponent": ("Chernoff exponent per copy of the detector's counts (Poisson model)", "nat"),
    "chernoff_exponent_per_photon": ("chernoff_exponent / photons_per_copy", "nat"),
    "stein_exponent": ("relative entropy D(H0||H1) per copy of the counts (Poisson model)", "nat"),
    "quantum_chernoff_exponent": ("quantum Chernoff exponent per copy of the exact thermal states", "nat"),
    "quantum_chernoff_exponent_per_photon": ("quantum_chernoff_exponent / photons_per_copy", "nat"),
    "weak_light_quantum_chernoff_exponent_per_photon": ("Poisson-model quantum Chernoff exponent per photon, 1 - <psi0|rho1|psi0>", "nat"),
    "quantum_relative_entropy": ("quantum relative entropy D(rho0||rho1) per copy of the exact thermal states", "nat"),
    "error_probability": ("exact Bayes error of the likelihood-ratio test on the totals (independent Poisson / click outputs)", "1"),
    "error_probability_accuracy": ("bound on the relative numerical error of error_probability", "1"),
    "miss_probability": ("exact miss probability of the randomised Neyman-Pearson test at false_alarm (independent outputs)", "1"),
    "miss_probability_accuracy": ("bound on the relative numerical error of miss_probability", "1"),
    "chernoff_bound": ("Chernoff upper bound on the Bayes error of the detector's test, optimised at each copies", "1"),
    "quantum_chernoff_bound": ("quantum Chernoff upper bound on the Helstrom error of the copies", "1"),
    "error_probability_monte_carlo": ("Bayes error of the likelihood-ratio test on simulated totals (thermal samplers)", "1"),
    "error_probability_standard_error": ("standard error of error_probability_monte_carlo", "1"),
    "copies_needed": ("copies for target_error: exact Bayes error (symmetric) / exact Neyman-Pearson miss at false_alarm (asymmetric)", "1"),
    "copies_needed_chernoff": ("copies after which the Chernoff bound is below target_error (symmetric; sufficient)", "1"),
    "copies_needed_stein": ("Stein estimate ln(1/target_error) / stein_exponent of the asymmetric copies", "1"),
    "quantum_copies_needed": ("copies for target_error at the quantum exponent: Chernoff (symmetric) / Stein (asymmetric) "
                              "estimate; NaN in the asymmetric setting when D(rho0||rho1) is infinite (supports not nested)", "1"),
    "observing_time_needed": ("copies_needed / copies_per_second of the scene (NaN: the scene gives no copies_per_second)", "s"),
    "quantum_observing_time_needed": ("quantum_copies_needed / copies_per_second of the scene (NaN: no copies_per_second)", "s"),
    "helstrom_error": ("Helstrom error of a collective measurement on k stored copies (exact thermal states)", "1"),
    "helstrom_truncation_error": ("bound on the photon-number truncation error of helstrom_error", "1"),
    "repeated_helstrom_error": ("exact Bayes error of the single-copy Helstrom measurement repeated on each of k copies, optimal decision on the k outcomes", "1"),
    "per_copy_receiver_error": ("exact Bayes error of the detector's per-copy counts on k copies (thermal; NaN if > 3 outputs)", "1"),
    "best_per_copy_receiver_error": ("smallest per_copy_receiver_error over the detectors", "1"),
    "best_repeated_measurement_error": ("smallest of best_per_copy_receiver_error and repeated_helstrom_error: the best repeated per-copy measurement computed", "1"),
    "memory_gain": ("best_per_copy_receiver_error - helstrom_error", "1"),
    "memory_gain_over_repeated_measurement": ("best_repeated_measurement_error - helstrom_error: what a memory gains over the best repeated per-copy measurement computed", "1"),
}


def log_likelihood_ratio(totals, copies, m0, m1, family="poisson"):
    r""":math:`\lambda = \ln P_1/P_0` of the totals in the independent-outputs model (+-inf where one hypothesis is impossible)."""
    return IndependentOutputs(m0, m1, family).log_likelihood_ratio(totals, copies)


def copies_for_error(error, target: float, guess: float, iterations: int = 12, step: float = 1.4) -> float:
    r"""Smallest copies c with ``error(c)`` <= ``target``, for an error falling with c.

    Bracketed by factors of ``step`` from ``guess``, then regula falsi (Illinois) on
    :math:`\ln\,\mathrm{error}` against :math:`\ln c` (nearly linear once the exponent
    dominates) to a relative width of 2e-3 in c. Returns the upper end of the bracket (where
    the error is at most ``target``); ``inf`` when no c below 1e18 reaches it.
    """
    def f(c):
        e = error(c)
        return np.log(max(e, 1e-320)) - np.log(target)

    lo, hi = guess, guess
    f_lo = f_hi = f(guess)
    for _ in range(60):
        if f_hi <= 0:
            break
        lo, f_lo = hi, f_hi
        hi *= step
        if hi > 1e18:
            return float("inf")
        f_hi = f(hi)
    if f_lo <= 0:  # the guess already meets the target: walk down
        for _ in range(60):
            hi, f_hi = lo, f_lo
            lo /= step
            if lo < 1e-6:
                return float(hi)
            f_lo = f(lo)
            if f_lo > 0:
                break
    x_lo, x_hi = np.log(lo), np.log(hi)
    side = 0
    for _ in range(iterations):
        if x_hi - x_lo < 2e-3:
            break
        x = x_hi - f_hi * (x_hi - x_lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (x_lo + x_hi)
        x = min(max(x, x_lo + 1e-3 * (x_hi - x_lo)), x_hi - 1e-3 * (x_hi - x_lo))
        fx = f(np.exp(x))
        if fx > 0:
            x_lo, f_lo = x, fx
            if side == -1:
                f_hi /= 2
            side = -1
        else:
            x_hi, f_hi = x, fx
            if side == 1:
                f_lo /= 2
            side = 1
    return float(np.exp(x_hi))


# -- exact per-copy receivers on k copies (thermal counts) -----------------------------------------
def per_copy_receiver_error(model0, model1, copies: int, prior: float, size: int = 32) -> float:
    r"""Exact Bayes error of the LRT on the counts of k copies, from the thermal generating function.

    For classical thermal light the counts of one copy have the generating function
    :math:`G(z) = e^{-\sum_k d_k(1-z_k)}/\det(I + \sum_k(1-z_k)R_k)` (Mandel), so k copies have
    :math:`G^k`; the count probabilities are its Taylor coefficients, read off by an FFT over
    ``size`` roots of unity per output (aliasing below :math:`P(\text{any total} \ge \text{size})`).
    Number-resolving detectors with at most 3 outputs; NaN otherwise.
    """
    n = len(model0.labels)
    if n > 3 or model0.threshold:
        return float("nan")
    grids = np.meshgrid(*[np.exp(2j * np.pi * np.arange(size) / size)] * n, indexing="ij")
    z = np.stack(grids, axis=-1)  # (size,)*n + (n,)
    probs = []
    for model in (model0, model1):
        r = model._responses()
        eye = np.eye(r.shape[-1])
        a = eye + np.einsum("...k,kab->...ab", 1 - z, r)
        g = np.exp(-((1 - z) * model.dark_counts).sum(-1)) / np.linalg.det(a)
        p = np.fft.fftn(g**copies).real / size**n  # coefficient of z^t: (1/S^n) sum G(w^j) w^{-jt}
        probs.append(np.clip(p, 0, None))
    return float(np.minimum(prior * probs[0], (1 - prior) * probs[1]).sum())


def _support_correlations(light0, light1):
    """Photon correlation matrices of both states restricted to the modes spanning both (rank <= 4)."""
    f = np.concatenate([light0.factor, light1.factor], axis=-1)
    u, sv, _ = np.linalg.svd(f, full_matrices=False)
    basis = u[:, sv > 1e-14 * sv[0]]
    out = []
    for light in (light0, light1):
        small = basis.conj().T @ light.factor
        corr = np.conj(small) @ small.T
        out.append(0.5 * (corr + corr.conj().T).real if np.allclose(corr.imag, 0) else 0.5 * (corr + corr.conj().T))
    return out


class HypothesisTesting(Analysis):
    """One source or two: error probabilities, exponents and quantum limits for every detector."""

    kind = "hypothesis_testing"

    Settings = HypothesisTestingSettings
    schema = {k: v[0] for k, v in SCHEMA.items()}
    result_dims = frozenset({"detector", "copies", "setting", "stored_copies"})
    scene_provides = frozenset({ThermalLight})
    detector_capabilities = frozenset({"likelihood"})

    @classmethod
    def check(cls, settings, scene_cls, detector_classes):
        problems = []
        if "separation" not in scene_cls.parameter_names:
            problems.append(f"analysis.kind: hypothesis_testing tests one source against two and needs a scene with a "
                            f"separation; source kind {scene_cls.kind!r} has {list(scene_cls.parameter_names)}")
        if settings.stored_copies != sorted(set(settings.stored_copies)) or min(settings.stored_copies) < 1 or max(settings.stored_copies) > 16:
            problems.append("analysis.stored_copies: must be increasing whole numbers between 1 and 16")
        return problems

    def _lights(self, scene):
        return scene.prepare(ThermalLight, {"separation": 0.0}), scene.prepare(ThermalLight)

    def outcome_laws(self, scene, detector):
        """The detector's outcome models under H0 and H1 and their independent-outputs law
        (counts: Poisson outputs; clicks: Bernoulli outputs with the exact click probabilities)."""
        light0, light1 = self._lights(scene)
        model0, model1 = detector.outcome_model(light0), detector.outcome_model(light1)
        m0, m1 = np.asarray(model0.mean(), float), np.asarray(model1.mean(), float)
        family = "bernoulli" if getattr(model0, "family", "counts") == "clicks" else "poisson"
        return model0, model1, IndependentOutputs(m0, m1, family)

    def analyze_detector(self, scene, detector, statistics, seed=None):
        s = self.settings
        model0, model1, outputs = self.outcome_laws(scene, detector)
        bound = outputs.chernoff_exponent()
        stein = outputs.stein_exponent()
        copies = np.asarray(statistics["copies"], float)[:, 0]
        bayes = [outputs.bayes_error(c, s.prior) for c in copies]
        neyman = [outputs.neyman_pearson_miss(c, s.false_alarm) for c in copies]
        chernoff_bound = np.array([np.exp(-outputs.chernoff_bound(c, s.prior).exponent) for c in copies])
        result = {"chernoff": float(bound.exponent), "chernoff_s": float(bound.s), "stein": stein,
                  "exact": np.array([b.probability for b in bayes]),
                  "exact_accuracy": np.array([b.relative_accuracy for b in bayes]),
                  "miss": np.array([n.probability for n in neyman]),
                  "miss_accuracy": np.array([n.relative_accuracy for n in neyman]),
                  "chernoff_bound": chernoff_bound, "detected": float(np.sum(model1.signal_mean())),
                  "copies_needed": self._copies_needed(outputs, float(bound.exponent), stein)}
        mc = np.full(copies.shape, np.nan)
        se = np.full(copies.shape, np.nan)
        if s.monte_carlo and seed is not None:
            threshold = np.log(s.prior) - np.log1p(-s.prior)
            totals1 = np.asarray(statistics["totals"])
            reps = totals1.shape[1]
            rng = generator(seed, 0)
            # H0 experiments: the same checkpoints, drawn as increments and accumulated.
            increments = np.diff(np.concatenate([[0], copies])).astype(np.int64)
            draws = np.array([[model0.sample_statistics(rng, int(c))["totals"] for c in increments] for _ in range(reps)])
            totals0 = np.cumsum(draws, axis=1).transpose(1, 0, 2)  # (checkpoints, R, n)
            for j, c in enumerate(copies):
                miss = np.mean(outputs.log_likelihood_ratio(totals1[j], c) <= threshold)  # H1 true, decided H0
                alarm = np.mean(outputs.log_likelihood_ratio(totals0[j], c) > threshold)
                mc[j] = s.prior * alarm + (1 - s.prior) * miss
                se[j] = np.sqrt((s.prior**2 * alarm * (1 - alarm) + (1 - s.prior) ** 2 * miss * (1 - miss)) / reps)
        result["monte_carlo"], result["standard_error"] = mc, se
        result["per_copy"] = np.array([per_copy_receiver_error(model0, model1, k, s.prior) for k in s.stored_copies])
        return result

    def _copies_needed(self, outputs, xi, stein):
        """Copies for target_error: exact symmetric (Bayes error) and asymmetric (NP miss), the
        Chernoff-bound count (sufficient) and the Stein estimate."""
        st = self.settings
        target = st.target_error
        if xi > 0:
            guess = max(np.log(0.5 / target) / xi, 1e-3)
            sufficient = copies_for_error(lambda c: np.exp(-outputs.chernoff_bound(c, st.prior).exponent), target, guess)
            # the exact error sits below the Chernoff bound by a slowly varying prefactor
            symmetric = copies_for_error(lambda c: outputs.bayes_error(c, st.prior, SEARCH_DELTA).probability, target,
                                         max(0.8 * sufficient, 1e-3) if np.isfinite(sufficient) else guess)
        else:
            symmetric = sufficient = float("inf")
        with np.errstate(divide="ignore"):
            stein_estimate = np.log(1 / target) / stein if stein > 0 else float("inf")
        if stein > 0:
            guess = max(min(stein_estimate, 1e17), 1e-3) if np.isfinite(stein) else 1.0
            asymmetric = copies_for_error(lambda c: outputs.neyman_pearson_miss(c, st.false_alarm, SEARCH_DELTA).probability, target, guess)
        else:
            asymmetric = float("inf")
        return [float(symmetric), float(asymmetric)], float(sufficient), float(stein_estimate)

    def analyze_scene(self, scene, references=()):
        s = self.settings
        light0, light1 = self._lights(scene)
        corr0, corr1 = _support_correlations(light0, light1)
        q = thermal_chernoff_exponent(corr0, corr1)
        d_q = thermal_relative_entropy(corr0, corr1)
        helstrom = [thermal_helstrom_error(corr0, corr1, copies=k, prior=s.prior, max_photons=s.max_photons) for k in s.stored_copies]
        repeated = [thermal_repeated_helstrom_error(corr0, corr1, copies=k, prior=s.prior, max_photons=s.max_photons)
                    for k in s.stored_copies]
        values = scene.values()
        # the weak-source closed form (PHYSICS 6.2) is the Gaussian PSF's; other PSFs have no such reference here
        gaussian = getattr(scene, "psf_name", "gaussian") == "gaussian"
        weak = float(binary_spade_exponent(values["separation"], values.get("relative_brightness", 0.5),
                                           scene.settings.psf_sigma)) if gaussian else float("nan")
        rate = getattr(scene, "copies_per_second", None)
        rate = rate() if callable(rate) else rate
        rate = float(rate) if isinstance(rate, (int, float, np.floating)) and not isinstance(rate, bool) and rate > 0 else float("nan")
        return {"quantum_chernoff": float(q.exponent), "quantum_s": float(q.s), "quantum_relative_entropy": float(d_q),
                "weak_quantum_chernoff_per_photon": weak,
                "helstrom": np.array([h.error_probability for h in helstrom]),
                "helstrom_truncation": np.array([h.truncation_error for h in helstrom]),
                "repeated_helstrom": np.array(repeated),
                "copies_per_second": rate,
                "photons_per_copy": float(scene.photons_per_copy)}

    def point_dataset(self, config, scene_result, detector_results, detector_names):
        s = self.settings
        copies = np.asarray(config.copies, float)
        ds = xr.Dataset(coords={"detector": detector_names, "copies": copies, "setting": SETTINGS,
                                "stored_copies": np.asarray(s.stored_copies)})
        eps = scene_result["photons_per_copy"]
        stack = lambda key: np.stack([np.asarray(d[key], float) for d in detector_results])  # noqa: E731
        ds["photons_per_copy"] = ((), eps)
        ds["detected_photons_per_copy"] = ("detector", stack("detected"))
        ds["chernoff_exponent"] = ("detector", stack("chernoff"))
        ds["chernoff_exponent_per_photon"] = ds["chernoff_exponent"] / eps
        ds["stein_exponent"] = ("detector", stack("stein"))
        xi_q = scene_result["quantum_chernoff"]
        ds["quantum_chernoff_exponent"] = ((), xi_q)
        ds["quantum_chernoff_exponent_per_photon"] = ((), xi_q / eps)
        ds["weak_light_quantum_chernoff_exponent_per_photon"] = ((), scene_result["weak_quantum_chernoff_per_photon"])
        ds["weak_light_quantum_chernoff_exponent_per_photon"].attrs["description"] = (
            "1 - exp(-Q) per photon of the weak-source Gaussian-PSF closed form (PHYSICS 6.2); NaN for other PSFs")
        ds["quantum_relative_entropy"] = ((), scene_result["quantum_relative_entropy"])
        ds["error_probability"] = (("detector", "copies"), stack("exact"))
        ds["error_probability_accuracy"] = (("detector", "copies"), stack("exact_accuracy"))
        ds["miss_probability"] = (("detector", "copies"), stack("miss"))
        ds["miss_probability_accuracy"] = (("detector", "copies"), stack("miss_accuracy"))
        ds["chernoff_bound"] = (("detector", "copies"), stack("chernoff_bound"))
        sq = scene_result["quantum_s"]
        ds["quantum_chernoff_bound"] = ("copies", s.prior**sq * (1 - s.prior) ** (1 - sq) * np.exp(-copies * xi_q))
        ds["error_probability_monte_carlo"] = (("detector", "copies"), stack("monte_carlo"))
        ds["error_probability_standard_error"] = (("detector", "copies"), stack("standard_error"))
        ds["copies_needed"] = (("detector", "setting"), np.array([d["copies_needed"][0] for d in detector_results]))
        ds["copies_needed_chernoff"] = ("detector", np.array([d["copies_needed"][1] for d in detector_results]))
        ds["copies_needed_stein"] = ("detector", np.array([d["copies_needed"][2] for d in detector_results]))
        with np.errstate(divide="ignore"):
            d_q = scene_result["quantum_relative_entropy"]
            ds["quantum_copies_needed"] = ("setting", np.array([np.log(0.5 / s.target_error) / xi_q if xi_q > 0 else np.inf,
                                                                # D infinite (supports not nested, the one-vs-two case at d > 0):
                                                                # the Stein estimate does not apply (it is not 0 copies)
                                                                np.log(1 / s.target_error) / d_q if 0 < d_q < np.inf
                                                                else (np.nan if d_q == np.inf else np.inf)]))
        rate = scene_result["copies_per_second"]
        ds["observing_time_needed"] = ds["copies_needed"] / rate
        ds["quantum_observing_time_needed"] = ds["quantum_copies_needed"] / rate
        ds["helstrom_error"] = ("stored_copies", scene_result["helstrom"])
        ds["helstrom_truncation_error"] = ("stored_copies", scene_result["helstrom_truncation"])
        ds["repeated_helstrom_error"] = ("stored_copies", scene_result["repeated_helstrom"])
        ds["per_copy_receiver_error"] = (("detector", "stored_copies"), stack("per_copy"))
        ds["best_per_copy_receiver_error"] = ds["per_copy_receiver_error"].min("detector", skipna=True)
        ds["best_repeated_measurement_error"] = np.fmin(ds["best_per_copy_receiver_error"], ds["repeated_helstrom_error"])
        ds["memory_gain"] = ds["best_per_copy_receiver_error"] - ds["helstrom_error"]
        ds["memory_gain_over_repeated_measurement"] = ds["best_repeated_measurement_error"] - ds["helstrom_error"]
        for name, (text, unit) in SCHEMA.items():
            ds[name].attrs.update(long_name=text, units=unit)
        ds["copies"].attrs.update(long_name="copies (temporal modes) of the light", units="1")
        ds["stored_copies"].attrs.update(long_name="copies held in a quantum memory and measured together", units="1")
        ds.attrs["units"] = json.dumps({"separation": config.source.units})
        return ds.transpose("detector", "copies", "setting", "stored_copies", missing_dims="ignore")

    def plots(self, ds, out):
        return make_plots(ds, Path(out))

    def summary(self, ds):
        return hypothesis_summary(ds)


# -- plots and summary -------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _first_point(ds):
    sweep = sweep_dims(ds)
    fixed = {d: ds[d].values[0] for d in sweep}
    return (ds.isel({d: 0 for d in sweep}) if sweep else ds), ", ".join(f"{d}={v}" for d, v in fixed.items())


def make_plots(ds: xr.Dataset, out: Path) -> list[Path]:
    from sensing.analyzers.plots import fixed_margins, plain_log_labels  # fast layout and log labels

    plt = _pyplot()
    paths = []
    point, note = _first_point(ds)
    fig, ax = plt.subplots(figsize=(6, 4.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    c = point["copies"].values
    for i, det in enumerate(point["detector"].values):
        p = point.sel(detector=det)
        col = colors[i % len(colors)]
        exact = p["error_probability"].values
        if np.any(np.isfinite(exact)):
            ax.loglog(c, exact, "-", color=col, label=f"{det} exact")
        ax.loglog(c, p["chernoff_bound"].values, ":", color=col, alpha=0.7)
        mc, se = p["error_probability_monte_carlo"].values, p["error_probability_standard_error"].values
        ok = np.isfinite(mc) & (mc > 0)
        if ok.any():
            ax.errorbar(c[ok], mc[ok], yerr=se[ok], fmt="o", color=col, ms=4, label=f"{det} Monte Carlo")
    ax.loglog(c, point["quantum_chernoff_bound"].values, "k--", label="quantum Chernoff bound")
    ax.set_xlabel("copies")
    ax.set_ylabel("error probability")
    ax.set_ylim(bottom=max(1e-12, np.nanmin(point["quantum_chernoff_bound"].values) / 10))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(f"one source or two ({note})" if note else "one source or two", fontsize=9, y=1.0)
    plain_log_labels(ax)
    fixed_margins(fig, top=0.35)
    paths.append(out / "error_probability.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4.4))
    k = point["stored_copies"].values
    curves = [("helstrom_error", "collective (Helstrom) on k stored copies", "k-"),
              ("repeated_helstrom_error", "single-copy Helstrom repeated, optimal decision", "s--"),
              ("best_per_copy_receiver_error", "best configured detector on k copies", "o:")]
    for name, label, style in curves:
        gap = 0.5 - point[name].values  # equal priors: the distance below a guess
        if np.any(np.isfinite(gap) & (gap > 0)):
            ax.semilogy(k, np.where(gap > 0, gap, np.nan), style, label=label)
    ax.set_xlabel("copies k")
    ax.set_ylabel("1/2 - error probability")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(f"memory against repeated measurement ({note})" if note else "memory against repeated measurement", fontsize=9, y=1.0)
    plain_log_labels(ax)
    fixed_margins(fig, top=0.35)
    paths.append(out / "memory.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    if "separation" in sweep_dims(ds):
        others = {d: ds[d].values[0] for d in sweep_dims(ds) if d != "separation"}
        sub = ds.sel(others) if others else ds
        fig, ax = plt.subplots(figsize=(6, 4.4))
        xs = sub["separation"].values
        for det in sub["detector"].values:
            ax.loglog(xs, sub["chernoff_exponent_per_photon"].sel(detector=det), "o-", label=str(det))
        ax.loglog(xs, sub["quantum_chernoff_exponent_per_photon"], "k--", label="quantum Chernoff (exact thermal)")
        ax.set_xlabel("separation")
        ax.set_ylabel("error exponent per photon [nat]")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(", ".join(f"{d}={v}" for d, v in others.items()), fontsize=9, y=1.0)
        plain_log_labels(ax)
        fixed_margins(fig, top=0.35)
        paths.append(out / "exponent.png")
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


def hypothesis_summary(ds: xr.Dataset) -> str:
    sweep = sweep_dims(ds)
    header = [*sweep, "detector", "xi/photon", "xi/xi_Q", "copies_needed(sym)", "copies_needed(asym)", "P_e@last", "+-rel", "MC@last"]
    stacked = ds.stack(point=sweep) if sweep else ds.expand_dims(point=[0])
    rows = []
    for i in range(stacked.sizes["point"]):
        p = stacked.isel(point=i)
        coords = [f"{p[d].item():.4g}" if isinstance(p[d].item(), float) else str(p[d].item()) for d in sweep]
        xq = float(p["quantum_chernoff_exponent"])
        for det in ds["detector"].values:
            s = p.sel(detector=det)
            xi = float(s["chernoff_exponent"])
            last = s.isel(copies=-1)
            rows.append(coords + [str(det), f"{float(s['chernoff_exponent_per_photon']):.4g}",
                                  f"{xi / xq:.3f}" if xq > 0 else "n/a",
                                  f"{float(s['copies_needed'].sel(setting='symmetric')):.3g}",
                                  f"{float(s['copies_needed'].sel(setting='asymmetric')):.3g}",
                                  f"{float(last['error_probability']):.3g}", f"{float(last['error_probability_accuracy']):.1g}",
                                  f"{float(last['error_probability_monte_carlo']):.3g}"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
