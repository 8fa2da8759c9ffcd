"""The Python entry point: ``sensing.run(config) -> xarray.Dataset``."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sensing.pipelines.checkpoint import CheckpointMismatch, PointStore
from sensing.pipelines.cluster import check_scheduler, open_client, resolve_scheduler
from sensing.pipelines.graph import Extra, Unit, build_graph, execute, guarded_call
from sensing.pipelines.target import relative_targets, run_to_target
from sensing.contracts.seeds import ANALYSIS_STREAM, stream
from sensing.results import assemble, provenance
from sensing.study.config import ConfigError, check_size, expand_sweep, load_config
from sensing.study.registry import ANALYSES, DETECTORS, SCENES


def _build(point_config, where: str):
    """Scene and detectors of one sweep point; construction errors become ConfigErrors."""
    try:
        scene = SCENES[point_config.source.kind](point_config.source, seed=point_config.seed)
    except ValueError as err:
        raise ConfigError([(f"{where}source", str(err))]) from None
    detectors = []
    for i, settings in enumerate(point_config.detectors):
        detector = DETECTORS[settings.kind](settings)
        try:  # a detector too large for this scene (e.g. pixels) is a config error, before any work
            detector.output_labels(scene.prepare(detector.accepts))
        except ValueError as err:
            raise ConfigError([(f"{where}detectors.{i}", str(err))]) from None
        detectors.append(detector)
    return scene, detectors


def build_model(scene, detector):
    """The detector's exact outcome model on the scene's true one-copy state (from SF)."""
    return detector.outcome_model(scene.prepare(detector.accepts))


#: Where a target run keeps the copies it chose (in the checkpoint folder).
TARGET_FILE = "target.json"


def plan(config: str | Path | dict, overrides: dict[str, Any] | None = None):
    """Validate a config and build every sweep point's scene and detectors (no sampling)."""
    raw, cfg = load_config(config, overrides)
    dims, points = expand_sweep(raw, cfg)
    built = []
    for index, point_config in points:
        where = "" if not dims else "sweep[" + ", ".join(f"{d}={v[i]!r}" for (d, v), i in zip(dims.items(), index)) + "]: "
        built.append((where, *_build(point_config, where), point_config))
    names = [[d.name for d in b[2]] for b in built]
    if any(n != names[0] for n in names):
        raise ConfigError([("sweep", "detector names must be the same at every sweep point")])
    check_size(cfg, len(built), [_outputs(built[0][1], d) for d in built[0][2]])
    return raw, cfg, dims, built


def _outputs(scene, detector) -> int:
    """Number of entries of a detector's per-copy statistic (for the size check)."""
    return len(detector.output_labels(scene.prepare(detector.accepts)))


def run(config: str | Path | dict, overrides: dict[str, Any] | None = None, client=None, *,
        scheduler: str | None = None, progress: bool = False, checkpoints: str | Path | None = None,
        resume: bool = False) -> xr.Dataset:
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
    checkpoints : path, optional
        Output folder: every finished sweep point is written to ``checkpoints/points/``
        (see :mod:`sensing.pipelines.checkpoint`) as soon as it is done.
    resume : bool
        Reuse the points already in ``checkpoints`` (their config must match).

    Returns
    -------
    xarray.Dataset
        See the README for the schema.

    Raises
    ------
    ConfigError
        If the config is invalid (every problem is listed with its field path), or if
        ``resume`` finds checkpoints of a different config.
    FileExistsError
        If ``checkpoints`` holds checkpoints and ``resume`` is false.
    sensing.pipelines.graph.PointFailure
        If a task fails; the message names the sweep point and detector.
    """
    raw, cfg, dims, built = plan(config, overrides)
    targets = None
    if cfg.target is not None:
        try:
            targets = relative_targets(cfg.target, built)
        except ValueError as err:
            raise ConfigError([("target.precision", str(err))]) from None
    analysis = ANALYSES[cfg.analysis.kind](cfg.analysis, seed=cfg.seed)
    references = [DETECTORS[c["kind"]](DETECTORS[c["kind"]].Settings(**c)) for c in analysis.reference_detectors()]
    units, extra, precision = [], [], {}
    for flat, (where, scene, detectors, _) in enumerate(built):
        label = where.rstrip(": ") or "run"
        for d, detector in enumerate(detectors):
            units.append(Unit(flat, d, f"{label}, detector {detector.name!r}",
                              partial(build_model, scene, detector),
                              partial(analysis.analyze_detector, scene, detector, seed=stream(cfg.seed, ANALYSIS_STREAM, flat, d))))
            if cfg.target is not None:
                precision[(flat, d)] = partial(_relative_error, analysis, scene, detector, cfg.target.parameter)
        extra.append(Extra(flat, label, partial(analysis.analyze_scene, scene, references)))
    n_points, n_det = len(built), len(built[0][2])
    store = PointStore(checkpoints) if checkpoints is not None else None
    try:
        done = store.start(cfg, n_points, resume) if store else []
    except CheckpointMismatch as err:
        raise ConfigError([("--resume", str(err))]) from None
    results: dict[int, dict] = {p: store.load(p) for p in done}
    partial_points: dict[int, dict] = {}

    def finished(name, value) -> None:
        kind, point, *rest = name
        entry = partial_points.setdefault(point, {"scene": None, "detectors": [None] * n_det})
        if kind == "extra":
            entry["scene"] = value
        else:
            entry["detectors"][rest[0]] = value
        if entry["scene"] is not None and all(d is not None for d in entry["detectors"]):
            results[point] = partial_points.pop(point)
            if store:
                store.save(point, results[point])

    chosen = resolve_scheduler(scheduler or cfg.pipeline.scheduler)
    try:
        check_scheduler(chosen)
    except ValueError as err:
        raise ConfigError([("--scheduler" if scheduler else "pipeline.scheduler", str(err))]) from None
    todo_units = [u for u in units if u.point not in results]
    todo_extra = [e for e in extra if e.point not in results]
    reached: dict = {}
    statistics = None
    idle = not todo_units and not todo_extra  # every point was checkpointed: no cluster needed
    with open_client("synchronous" if idle else chosen, cfg.pipeline.workers, client) as dask_client:
        if cfg.target is None:
            copies = list(cfg.copies)
        else:
            copies, reached, statistics = _target_phase(cfg, store, units, precision, chosen, dask_client, progress, targets)
        if statistics is not None:  # a target run's sampling is done: analyse what it reduced
            outputs = {("unit", u.point, u.detector): guarded_call(u.label, u.analyze, statistics[(u.point, u.detector)])
                       for u in todo_units}
            outputs.update(build_graph([], todo_extra, cfg.seed, copies, cfg.repetitions, cfg.pipeline)[0])
            execute(outputs, [], chosen, dask_client, progress, finished, description="analysis")
        elif todo_units or todo_extra:
            outputs, samplers = build_graph(todo_units, todo_extra, cfg.seed, copies, cfg.repetitions, cfg.pipeline)
            execute(outputs, samplers, chosen, dask_client, progress, finished)
    ordered = [results[p] for p in range(n_points)]
    if cfg.target is not None:
        cfg = cfg.model_copy(update={"copies": copies})
    detector_names = [d.name for d in built[0][2]]
    ds = assemble([analysis.point_dataset(b[3].model_copy(update={"copies": list(copies), "target": None}), r["scene"],
                                          r["detectors"], detector_names) for b, r in zip(built, ordered)], dims)
    if cfg.target is not None:
        _record_target(ds, cfg, dims, n_det, reached)
    ds.attrs.update(provenance(cfg, raw))
    return ds


def _relative_error(analysis, scene, detector, parameter: str, statistics) -> float:
    """Estimated relative error of ``parameter`` from one checkpoint's statistics (estimates
    only: no Fisher information or quantum limit is recomputed in a target round)."""
    return analysis.target_error(scene, detector, statistics, parameter)


def _target_phase(cfg, store, units, precision, scheduler, client, progress, targets=None):
    """Copies of a target run: chosen now (sampling rounds) or read back when resuming.

    Returns ``(copies, reached, statistics)``; ``statistics`` is ``None`` when read back
    (the remaining points are then sampled as a fixed run with those copies).
    """
    target = cfg.target
    saved = store.load_json(TARGET_FILE) if store else None
    if saved is not None:
        return saved["copies"], {tuple(k): v for k, v in saved["reached"]}, None
    copies, statistics, reached = run_to_target(
        units, precision, cfg.seed, target.initial_copies, target.max_copies,
        target.relative_error if targets is None else targets,
        cfg.repetitions, cfg.pipeline, scheduler, client, progress)
    if store:
        store.save_json(TARGET_FILE, {"copies": copies, "reached": [[list(k), v] for k, v in reached.items()]})
    return copies, reached, statistics


def _record_target(ds: xr.Dataset, cfg, dims: dict, n_det: int, reached: dict) -> None:
    """``copies_to_target``: first checkpoint whose estimated error met the target (NaN: never)."""
    shape = tuple(len(v) for v in dims.values())
    n_points = int(np.prod(shape, dtype=int))
    values = np.array([[np.nan if reached.get((p, d)) is None else float(reached[(p, d)]) for d in range(n_det)]
                       for p in range(n_points)]).reshape(shape + (n_det,))
    ds["copies_to_target"] = (tuple(dims) + ("detector",), values)
    ds["copies_to_target"].attrs["description"] = (
        f"first copy checkpoint at which the relative error of {cfg.target.parameter!r}, estimated from the spread of "
        f"the repetitions' estimates, was at most {_target_text(cfg.target)} (NaN: not within max_copies)")
    ds.attrs["target"] = f"{cfg.target.parameter}: {_target_text(cfg.target)}, max_copies {cfg.target.max_copies}"


def _target_text(target) -> str:
    if target.precision is not None:
        return f"precision {target.precision} (relative: precision / |true value|)"
    return f"relative_error {target.relative_error}"
