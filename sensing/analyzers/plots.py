"""Plots of a results dataset (PNG files beside ``results.nc``).

Drawn for speed as well as reading: margins fixed in inches (no ``tight_layout``, which draws
every tick and label once more to measure them) and log-axis labels as plain text with Unicode
superscripts (``10⁻³``, the labels matplotlib would give, without parsing each one as mathtext).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import xarray as xr

from sensing.contracts.analysis import sweep_dims


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _plain(label: str) -> str:
    """matplotlib's mathtext log label (``$\\mathdefault{10^{-3}}$``, ``$\\mathdefault{2\\times10^{1}}$``)
    as plain text (``10⁻³``, ``2×10¹``)."""
    if not (label.startswith("$") and label.endswith("$")):
        return label
    text = label[1:-1].replace("\\times", "×")
    text = re.sub(r"\^\{([-0-9]+)\}", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    text = re.sub(r"\\mathdefault\{(.*)\}", r"\1", text)
    return text.replace("-", "−")


def plain_log_labels(ax) -> None:
    """Label the log axes of ``ax`` with plain text: the same ticks and labels as matplotlib's
    ``LogFormatterSciNotation`` (same settings), without mathtext's parser (about 10 ms a label)."""
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainLogFormatter(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return _plain(super().__call__(x, pos))

    for axis in (ax.xaxis, ax.yaxis):
        for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                         (axis.get_minor_formatter, axis.set_minor_formatter)):
            old = get()
            if type(old) is LogFormatterSciNotation:
                put(PlainLogFormatter(base=old._base, labelOnlyBase=old.labelOnlyBase,
                                      minor_thresholds=old.minor_thresholds, linthresh=old._linthresh))


def fixed_margins(fig, left: float = 0.9, right: float = 0.15, bottom: float = 0.6, top: float = 0.45,
                  gap: float = 0.25) -> None:
    """Subplot margins and the gap between panels, in inches (in place of ``tight_layout``)."""
    width, height = fig.get_size_inches()
    columns = max(1, len(fig.axes))
    axes_width = (width - left - right - gap * (columns - 1)) / columns
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=gap / axes_width)


def _x_dim(ds: xr.Dataset) -> str | None:
    """The swept dimension to put on the x axis: the first estimated parameter if swept, else the first numeric one."""
    swept = sweep_dims(ds)
    first = str(ds["parameter"].values[0])
    if first in swept:
        return first
    numeric = [d for d in swept if np.issubdtype(ds[d].dtype, np.number)]
    return numeric[0] if numeric else None


def _fix_other_dims(ds: xr.Dataset, keep: str | None) -> tuple[xr.Dataset, str]:
    others = [d for d in sweep_dims(ds) if d != keep]
    fixed = {d: ds[d].values[0] for d in others}
    note = ", ".join(f"{d}={v}" for d, v in fixed.items())
    return ds.sel(fixed) if fixed else ds, note


def fisher_plot(ds: xr.Dataset, path: Path) -> Path:
    """Information per photon against the swept quantity, one line per detector, with the quantum limit."""
    plt = _pyplot()
    x = _x_dim(ds)
    sub, note = _fix_other_dims(ds, x)
    units = json.loads(ds.attrs.get("units", "{}")).get(x, "") if x else ""
    fig, axes = plt.subplots(1, sub.sizes["parameter"], figsize=(5.5 * sub.sizes["parameter"], 4.2), squeeze=False)
    for ax, par in zip(axes[0], sub["parameter"].values):
        s = sub.sel(parameter=par)
        if x is None:
            values = [float(s["fisher_information_per_photon"].sel(detector=d)) for d in s["detector"].values]
            ax.bar([str(d) for d in s["detector"].values], values)
            ax.axhline(float(s["quantum_fisher_information_per_photon"]), color="k", ls="--", label="quantum limit")
        else:
            xs = s[x].values
            for det in s["detector"].values:
                ax.plot(xs, s["fisher_information_per_photon"].sel(detector=det), "o-", label=str(det))
            ax.plot(xs, s["quantum_fisher_information_per_photon"], "k--", label="quantum limit (QFI)")
            ax.set_xlabel(f"{x}" + (f" [{units}]" if units else ""))
            ax.set_xscale("log" if np.all(xs > 0) and xs.max() / xs.min() > 20 else "linear")
        ax.set_yscale("log")
        plain_log_labels(ax)
        ax.set_ylabel(f"Fisher information per photon for {par}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{ds.attrs.get('title', '')}" + (f" ({note})" if note else ""), fontsize=10)
    fixed_margins(fig, gap=1.0)  # each panel has its own y labels
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def mse_plot(ds: xr.Dataset, path: Path, panels: int = 4) -> Path:
    """Mean squared error of the first parameter against copies, with each detector's bound and the quantum bound."""
    plt = _pyplot()
    x = _x_dim(ds)
    sub, note = _fix_other_dims(ds, x)
    par = str(sub["parameter"].values[0])
    sub = sub.sel(parameter=par)
    if x is None:
        picks = [None]
    else:
        n = sub.sizes[x]
        picks = sorted(set(np.linspace(0, n - 1, min(panels, n)).round().astype(int)))
    fig, axes = plt.subplots(1, len(picks), figsize=(4.6 * len(picks), 4.2), squeeze=False, sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, pick in zip(axes[0], picks):
        s = sub if pick is None else sub.isel({x: pick})
        c = s["copies"].values
        for i, det in enumerate(s["detector"].values):
            color = colors[i % len(colors)]
            ax.loglog(c, s["mse"].sel(detector=det), "o", color=color, label=f"{det} MSE")
            ax.loglog(c, s["crb"].sel(detector=det), "-", color=color, alpha=0.7, label=f"{det} CRB")
        ax.loglog(c, s["quantum_crb"], "k--", label="quantum CRB")
        ax.set_xlabel("copies")
        ax.set_title(f"{par} = {float(s['true_value']):.3g}" if pick is not None else par, fontsize=9, y=1.0)  # y given: no tick measuring to place it
        plain_log_labels(ax)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(f"mean squared error of {par}")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"{ds.attrs.get('title', '')}" + (f" ({note})" if note else ""), fontsize=10)
    fixed_margins(fig, top=0.65)  # suptitle and panel titles; the panels share their y labels
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def make_plots(ds: xr.Dataset, out: Path) -> list[Path]:
    out = Path(out)
    return [fisher_plot(ds, out / "fisher.png"), mse_plot(ds, out / "mse.png")]
