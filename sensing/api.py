"""The Python entry point: ``sensing.run(config) -> xarray.Dataset``."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import xarray as xr

from pipelines.cluster import open_client, resolve_scheduler
from pipelines.graph import Unit, build_graph, execute
from sensing.config import ConfigError, expand_sweep, load_config
from sensing.registry import ANALYSES, DETECTORS, SCENES


def _build(point_config, where: str):
    """Scene and detectors of one sweep point; construction errors become ConfigErrors."""
    try:
        scene = SCENES[point_config.source.kind](point_config.source)
    except ValueError as err:
        raise ConfigError([(f"{where}source", str(err))]) from None
    detectors = []
    for i, settings in enumerate(point_config.detectors):
        detector = DETECTORS[settings.kind](settings)
        try:
            if hasattr(detector, "operators") and hasattr(scene, "modes"):
                detector.operators(scene.modes)
        except ValueError as err:
            raise ConfigError([(f"{where}detectors.{i}", str(err))]) from None
        detectors.append(detector)
    return scene, detectors


def build_model(scene, detector):
    """The detector's exact outcome model on the scene's true one-copy state (from SF)."""
    return detector.outcome_model(scene.state())


def plan(config: str | Path | dict, overrides: dict[str, Any] | None = None):
    """Validate a config and build every sweep point's scene and detectors (no sampling)."""
    raw, cfg = load_config(config, overrides)
    dims, points = expand_sweep(raw, cfg)
    built = []
    for index, point_config in points:
        where = "" if not dims else "sweep[" + ", ".join(f"{d}={v[i]!r}" for (d, v), i in zip(dims.items(), index)) + "]: "
        built.append((where, *_build(point_config, where)))
    names = [[d.name for d in b[2]] for b in built]
    if any(n != names[0] for n in names):
        raise ConfigError([("sweep", "detector names must be the same at every sweep point")])
    return raw, cfg, dims, built


def run(config: str | Path | dict, overrides: dict[str, Any] | None = None, client=None, *,
        scheduler: str | None = None, progress: bool = False) -> xr.Dataset:
    """Run a configured sensing study and return its results.

    Parameters
    ----------
    config : path or dict
        A YAML config file or the equivalent dict.
    overrides : dict, optional
        ``{dotted.path: value}`` applied before validation.
    client : distributed.Client, optional
        Run on this dask client (otherwise ``scheduler`` or the config decides).
    scheduler : str, optional
        ``'synchronous'``, ``'threads'``, ``'local'`` or a scheduler address; overrides
        ``pipeline.scheduler``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    xarray.Dataset
        See the README for the schema.

    Raises
    ------
    ConfigError
        If the config is invalid (every problem is listed with its field path).
    """
    raw, cfg, dims, built = plan(config, overrides)
    analysis = ANALYSES[cfg.analysis.kind](cfg.analysis)
    units, extra = [], []
    for flat, (where, scene, detectors) in enumerate(built):
        label = where.rstrip(": ") or "run"
        for d, detector in enumerate(detectors):
            units.append(Unit(flat, d, f"{label}, detector {detector.name!r}",
                              partial(build_model, scene, detector), partial(analysis.analyze_detector, scene, detector)))
        extra.append((label, partial(analysis.analyze_scene, scene)))
    outputs, samplers = build_graph(units, extra, cfg.seed, list(cfg.copies), cfg.repetitions, cfg.pipeline)
    chosen = resolve_scheduler(scheduler or cfg.pipeline.scheduler)
    with open_client(chosen, cfg.pipeline.workers, client) as dask_client:
        results = execute(outputs, samplers, chosen, dask_client, progress)
    n_det = len(built[0][2])
    per_detector = [results[i * n_det:(i + 1) * n_det] for i in range(len(built))]
    per_scene = results[len(units):]
    return analysis.assemble(cfg, raw, dims, [d.name for d in built[0][2]], per_scene, per_detector)
