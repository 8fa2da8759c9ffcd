"""The Python entry point: ``sensing.run(config) -> xarray.Dataset``."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sensing.pipelines.checkpoint import CheckpointMismatch, PointStore
from sensing.pipelines.cluster import check_scheduler, open_client, resolve_scheduler
from sensing.pipelines.graph import Extra, PointFailure, Unit, build_graph, describe_key, execute, guarded_call
from sensing.pipelines.target import relative_targets, run_to_target
from sensing.contracts.seeds import ANALYSIS_STREAM, stream
from sensing.contracts.threads import single_threaded
from sensing.results import assemble, provenance
from sensing.study.config import ConfigError, check_size, expand_sweep, load_config, sampling_cost
from sensing.study.registry import ANALYSES, DETECTORS, SCENES


def _build(point_config, where: str):
    """Scene and detectors of one sweep point; construction errors become ConfigErrors."""
    try:
        scene = SCENES[point_config.source.kind](point_config.source, seed=point_config.seed)
    except ValueError as err:
        raise ConfigError([(f"{where}source", str(err))]) from None
    except ArithmeticError as err:  # values so extreme that the scene's numbers overflow
        raise ConfigError([(f"{where}source", f"the scene cannot be built with these values "
                            f"({type(err).__name__}: {' '.join(str(err).split())}); use values of a sensible scale")]) from None
    detectors = []
    for i, settings in enumerate(point_config.detectors):
        detector = DETECTORS[settings.kind](settings)
        try:  # a detector too large for this scene (e.g. pixels) is a config error, before any work
            detector.output_labels(scene.prepare(detector.accepts))
        except ValueError as err:
            raise ConfigError([(f"{where}detectors.{i}", str(err))]) from None
        except ArithmeticError as err:
            raise ConfigError([(f"{where}detectors.{i}", f"the state cannot be built with these values "
                                f"({type(err).__name__}: {' '.join(str(err).split())}); use values of a sensible scale")]) from None
        detectors.append(detector)
    return scene, detectors


def _label(where: str, detector) -> str:
    """How failures name a (sweep point, detector): ``sweep[separation=1.0], detector 'spade'``."""
    return f"{where.rstrip(': ') or 'run'}, detector {detector.name!r}"


def _model(where: str, scene, detector):
    try:
        return build_model(scene, detector)
    except Exception as err:  # noqa: BLE001 - named by its point and detector, original chained
        raise PointFailure(f"{_label(where, detector)}: {type(err).__name__}: {err}") from err


class PlannedModel:
    """A unit's outcome model: the one :func:`plan` built, in this process; rebuilt (the same
    numbers: the same code on one BLAS thread) where it is unpickled, so a cluster's graph
    carries scene and detector settings, not the model's arrays (a 1-D camera's are 0.75 MB)."""

    def __init__(self, model, scene, detector):
        self.model, self.scene, self.detector = model, scene, detector

    def __call__(self):
        if self.model is None:
            self.model = build_model(self.scene, self.detector)
        return self.model

    def __getstate__(self) -> dict:
        return {"model": None, "scene": self.scene, "detector": self.detector}


def build_model(scene, detector):
    """The detector's exact outcome model on the scene's true one-copy state (from SF)."""
    return detector.outcome_model(scene.prepare(detector.accepts))


#: Where a target run keeps the copies it chose (in the checkpoint folder).
TARGET_FILE = "target.json"


def plan(config: str | Path | dict, overrides: dict[str, Any] | None = None):
    """Validate a config and build every sweep point's scene and detectors (no sampling).

    Returns ``(raw, cfg, dims, built)``; ``built`` holds, per sweep point, ``(label, scene,
    detectors, point_config, models)`` with each detector's exact outcome model on the
    point's true state, built once here and reused by the run.

    Raises
    ------
    ConfigError
        For every invalid field, an incompatible pairing, a run too large for the scheduler or
        the client's memory, or one whose estimated sampling cost exceeds
        ``pipeline.max_hours``.
    """
    raw, cfg = load_config(config, overrides)
    dims, points = expand_sweep(raw, cfg)
    built = []
    with single_threaded():  # the models are numbers of the run: built as its tasks are (bit-identical)
        for index, point_config in points:
            where = "" if not dims else "sweep[" + ", ".join(f"{d}={v[i]!r}" for (d, v), i in zip(dims.items(), index)) + "]: "
            scene, detectors = _build(point_config, where)
            built.append((where, scene, detectors, point_config, [_model(where, scene, d) for d in detectors]))
    names = [[d.name for d in b[2]] for b in built]
    if any(n != names[0] for n in names):
        raise ConfigError([("sweep", "detector names must be the same at every sweep point")])
    estimate_seconds(cfg, built)
    return raw, cfg, dims, built


def estimate_seconds(cfg, built) -> float:
    """Estimated core-seconds of a planned run's sampling (refused above ``pipeline.max_hours``)."""
    tasks = check_size(cfg, len(built), [len(m.labels) for m in built[0][4]])
    return sampling_cost(cfg, tasks, [[m.draws_per_copy() for m in b[4]] for b in built], [b[0] or "" for b in built])


#: ``pipeline.scheduler: auto`` (the default) runs in-process (synchronous) when the estimated
#: sampling takes less than this many core-seconds and the sweep has fewer than
#: :data:`AUTO_LOCAL_POINTS` points; otherwise it starts the embedded LocalCluster, whose start,
#: shutdown and per-worker imports cost a few seconds.
AUTO_LOCAL_SECONDS = 20.0
AUTO_LOCAL_POINTS = 64


def auto_scheduler(cfg, built) -> str:
    """The in-process or local scheduler ``auto`` picks for a planned run."""
    small = estimate_seconds(cfg, built) < AUTO_LOCAL_SECONDS and len(built) < AUTO_LOCAL_POINTS
    return "synchronous" if small else "local"


def _outputs(scene, detector) -> int:
    """Number of entries of a detector's per-copy statistic (for the size check)."""
    return len(detector.output_labels(scene.prepare(detector.accepts)))


def run(config: str | Path | dict, overrides: dict[str, Any] | None = None, client=None, *,
        scheduler: str | None = None, progress: bool = False, checkpoints: str | Path | None = None,
        resume: bool = False, announce=None, planned=None, artifacts: dict | None = None) -> xr.Dataset:
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
        ``'synchronous'``, ``'threads'``, ``'local'``, ``'auto'`` or a scheduler address
        (``tcp://HOST:PORT``, ``tls://HOST:PORT``). Without it: dask's ``scheduler-address``,
        else ``pipeline.scheduler`` (in-process choices only), else ``'auto'``
        (:func:`auto_scheduler`).
    progress : bool
        Show a progress bar.
    checkpoints : path, optional
        Output folder: every finished sweep point is written to ``checkpoints/points/``
        (see :mod:`sensing.pipelines.checkpoint`) as soon as it is done.
    resume : bool
        Reuse the points already in ``checkpoints`` (their config must match).
    announce : callable, optional
        Called with the scheduler the run uses (name or address), before it starts.
    planned : tuple, optional
        What :func:`plan` returned for this same ``config`` and ``overrides`` (saves
        planning twice).
    artifacts : dict, optional
        Filled with the analysis' extra data to keep (``{file name: groups}``, see
        :meth:`sensing.contracts.analysis.Analysis.artifacts`; written by
        :func:`sensing.snapshots.write_artifacts`).

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
    with single_threaded():  # every number of the run with one BLAS thread (bit-identical everywhere)
        return _run(config, overrides, client, scheduler, progress, checkpoints, resume, announce, planned, artifacts)


def _run(config, overrides, client, scheduler, progress, checkpoints, resume, announce, planned, artifacts) -> xr.Dataset:
    raw, cfg, dims, built = planned if planned is not None else plan(config, overrides)
    targets = None
    if cfg.target is not None:
        try:
            targets = relative_targets(cfg.target, built)
        except ValueError as err:
            raise ConfigError([("target.precision", str(err))]) from None
    analysis = ANALYSES[cfg.analysis.kind](cfg.analysis, seed=cfg.seed)
    references = [DETECTORS[c["kind"]](DETECTORS[c["kind"]].Settings(**c)) for c in analysis.reference_detectors()]
    units, extra, precision = [], [], {}
    for flat, (where, scene, detectors, _, models) in enumerate(built):
        label = where.rstrip(": ") or "run"
        for d, detector in enumerate(detectors):
            units.append(Unit(flat, d, _label(where, detector),
                              PlannedModel(models[d], scene, detector),
                              partial(analysis.analyze_detector, scene, detector, seed=stream(cfg.seed, ANALYSIS_STREAM, flat, d))))
            if cfg.target is not None:
                precision[(flat, d)] = partial(_relative_error, analysis, scene, detector, cfg.target.parameter)
        extra.append(Extra(flat, label, partial(analysis.analyze_scene, scene, references)))
    n_points, n_det = len(built), len(built[0][2])
    describe = describe_key({(u.point, u.detector): u.label for u in units}, {e.point: e.label for e in extra})
    store = PointStore(checkpoints) if checkpoints is not None else None
    try:
        done = store.start(cfg, n_points, resume) if store else []
        results: dict[int, dict] = {p: store.load(p) for p in done}
    except CheckpointMismatch as err:
        raise ConfigError([("--resume", str(err))]) from None
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

    chosen = resolve_scheduler(scheduler, cfg.pipeline.scheduler, lambda: auto_scheduler(cfg, built))
    try:
        check_scheduler(chosen)
    except ValueError as err:
        raise ConfigError([("--scheduler" if scheduler else "dask config scheduler-address", str(err))]) from None
    if announce is not None:
        announce(chosen if client is None else f"the given client ({getattr(client, 'scheduler', None) and client.scheduler.address})")
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
            execute(outputs, [], chosen, dask_client, progress, finished, description="analysis", describe=describe)
        elif todo_units or todo_extra:
            outputs, samplers = build_graph(todo_units, todo_extra, cfg.seed, copies, cfg.repetitions, cfg.pipeline)
            execute(outputs, samplers, chosen, dask_client, progress, finished, describe=describe)
    ordered = [results[p] for p in range(n_points)]
    if cfg.target is not None:
        cfg = cfg.model_copy(update={"copies": copies})
    detector_names = [d.name for d in built[0][2]]
    ds = assemble([analysis.point_dataset(b[3].model_copy(update={"copies": list(copies), "target": None}), r["scene"],
                                          r["detectors"], detector_names) for b, r in zip(built, ordered)], dims)
    if cfg.target is not None:
        _record_target(ds, cfg, dims, n_det, reached)
    ds.attrs.update(provenance(cfg, raw))
    if artifacts is not None:
        artifacts.update(analysis.artifacts(ordered, detector_names))
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


# -- measure first, ask later ----------------------------------------------------------------------
#: File ``predict`` writes into the run folder.
PREDICTIONS_FILE = "predictions.nc"


def predict(run_dir: str | Path, observables: list[str] | None = None, request: dict | list | str | Path | None = None,
            *, out: str | Path | None = None, overwrite: bool = False, write: bool = True) -> xr.Dataset:
    """Answer new questions from the snapshots a run kept, without re-simulating.

    Parameters
    ----------
    run_dir : path
        Output folder of ``sensing run`` (``results.nc`` and ``snapshots.nc``).
    observables : list of str, optional
        Pauli strings (``"XZIIY"`` or ``"X0 Z3"``).
    request : dict, list or path, optional
        More properties: a list of observables, or a mapping of the analysis' property fields
        (``observables``, ``fidelity``, ``renyi2_subsystems``, ``density_elements``, ...), or a
        YAML file holding either. Without ``observables`` and ``request``: the run's own properties
        (the same numbers as the run).
    out : path, optional
        Folder of ``predictions.nc`` (default ``run_dir``).
    overwrite : bool
        Replace an existing ``predictions.nc``.
    write : bool
        Write ``predictions.nc`` (else only return the dataset).

    Returns
    -------
    xarray.Dataset
        The analysis' prediction variables (``prediction``, ``standard_error``, ``true_value``, ...).

    Raises
    ------
    ConfigError
        Bad run folder or request (names the field and the value).
    sensing.snapshots.SnapshotStoreError
        A truncated or corrupted snapshot store.
    FileExistsError
        ``predictions.nc`` exists and ``overwrite`` is false.
    """
    import yaml
    from pydantic import ValidationError

    from sensing.results import RESULTS_FILE
    from sensing.snapshots import read_groups
    from sensing.contracts.analysis import sweep_dims
    from sensing.pipelines.checkpoint import atomic_write

    run_dir = Path(run_dir)
    target = Path(out or run_dir) / PREDICTIONS_FILE
    if write and target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it (nothing was changed)")
    results_path = run_dir / RESULTS_FILE
    if not results_path.is_file():
        raise ConfigError([("RUN_DIR", f"{str(run_dir)!r} holds no {RESULTS_FILE} (not the output folder of `sensing run`)")])
    with xr.open_dataset(results_path, engine="h5netcdf") as saved:
        raw = yaml.safe_load(saved.attrs["config"])
        dims = {d: list(saved[d].values) for d in sweep_dims(saved)}
    _, cfg = load_config(raw)
    analysis = ANALYSES[cfg.analysis.kind](cfg.analysis, seed=cfg.seed)
    if not hasattr(analysis, "predict_from_artifacts"):
        raise ConfigError([("RUN_DIR", f"analysis kind {cfg.analysis.kind!r} keeps no snapshots to predict from")])
    if isinstance(request, (str, Path)):
        try:
            request = yaml.safe_load(Path(request).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError([("--observable-file", f"cannot read {str(request)!r}: {' '.join(str(err).split())}")]) from None
        if not isinstance(request, (dict, list)):
            raise ConfigError([("--observable-file", "expected a list of observables or a mapping of analysis fields")])
    try:
        settings = analysis.request_settings(observables, request)
    except ValidationError as err:
        raise ConfigError([(".".join(str(x) for x in e["loc"]) or "observables",
                            f"{e['msg'].removeprefix('Value error, ')} (got {e.get('input')!r})")
                           for e in err.errors()]) from None
    groups = read_groups(run_dir / analysis.artifacts_file)
    names = [d.name for d in cfg.detectors]
    points = int(np.prod([len(v) for v in dims.values()], dtype=int)) if dims else 1
    try:
        datasets = analysis.predict_from_artifacts(groups, names, points, settings)
    except ValueError as err:
        raise ConfigError([("observables", str(err))]) from None
    ds = assemble(datasets, dims)
    ds.attrs.update(provenance(cfg, raw))
    ds.attrs["predicted_from"] = str(run_dir / analysis.artifacts_file)
    ds.attrs["request"] = yaml.safe_dump(settings.model_dump(exclude_none=True), sort_keys=False)
    if write:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, bytes(ds.to_netcdf(engine="h5netcdf")))
    return ds
