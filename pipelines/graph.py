"""The dask graph of a run: build models, sample and reduce batches, tree-reduce, analyze.

For every (sweep point, detector)::

    model ──> sample tasks (batches x repetitions) ──> tree sum per segment
          ──> cumulative sums at the copy checkpoints ──> analysis

The functions that build models and analyze statistics are passed in, so this module
knows dask and batching but no physics. The shape of the graph (which batches a task
samples, the order of the tree sums) depends on the config only, never on the scheduler
or the number of workers, so floating-point sums are bit-identical everywhere.
"""

from __future__ import annotations

import re
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import dask
import numpy as np
from dask.callbacks import Callback

from sensing.contracts.detector import Statistics, add_statistics
from sensing.contracts.threads import pin_single_thread, single_threaded
from sensing.pipelines.batches import REPETITION_BLOCK, Task, batch_generator, block_generator, plan_tasks


class PointFailure(RuntimeError):
    """A task of a sweep point failed; the message names the point and the detector."""


def _pin_if_cluster_worker() -> None:
    if "distributed" not in sys.modules:
        return  # no cluster in this process (and no reason to import distributed into it)
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return  # in the client's process: sensing.run holds the limit for the whole run
    pin_single_thread()


def _guard(label: str, function: Callable, *args):
    # One BLAS thread in every task: dask workers run single-threaded BLAS, and the rounding
    # of a matrix product depends on the thread count, so this keeps numbers bit-identical
    # whatever the scheduler.
    _pin_if_cluster_worker()
    try:
        with single_threaded():
            return function(*args)
    except PointFailure:
        raise
    except Exception as err:  # re-raised with the sweep point named, original chained
        raise PointFailure(f"{label}: {type(err).__name__}: {err}") from err


def guarded_call(label: str, function: Callable, *args, key: str | None = None):
    """A delayed ``function(*args)`` whose failure is re-raised as a :class:`PointFailure` naming ``label``."""
    if key is None:
        return dask.delayed(_guard, pure=True)(label, function, *args)
    return dask.delayed(_guard, pure=True)(label, function, *args, dask_key_name=key)


class Opaque:
    """A task argument dask passes through untouched: dask walks into dataclasses, tuples and
    dicts given to a delayed call looking for collections, and for the ~3000 sample tasks of a
    27-point sweep that walk through their :class:`Task` (its repetitions and batches) took
    longer than building the rest of the graph."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def sample_task(model, seed: int, task: Task | Opaque) -> Statistics:
    """Sufficient statistics of the task's batches, one row per repetition."""
    task = task.value if isinstance(task, Opaque) else task
    if getattr(model, "sample_block", None) is not None:
        return _sample_blocks(model, seed, task)
    rows = []
    for rep in task.repetitions:
        total = None
        for batch in task.batches:
            part = model.sample_statistics(batch_generator(seed, task.point, task.detector, rep, batch), batch.copies)
            total = part if total is None else add_statistics(total, part)
        rows.append(total)
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def _sample_blocks(model, seed: int, task: Task) -> Statistics:
    """The task's repetitions from whole blocks of :data:`REPETITION_BLOCK`, each drawn in one call per batch."""
    reps = np.asarray(task.repetitions)
    blocks = range(reps.min() // REPETITION_BLOCK, reps.max() // REPETITION_BLOCK + 1)
    parts = []
    for block in blocks:
        total = None
        for batch in task.batches:
            part = model.sample_block(block_generator(seed, task.point, task.detector, block, batch), batch.copies,
                                      REPETITION_BLOCK)
            total = part if total is None else add_statistics(total, part)
        parts.append(total)
    rows = reps - blocks[0] * REPETITION_BLOCK
    return {key: np.concatenate([p[key] for p in parts])[rows] for key in parts[0]}


def tree_sum(items: list):
    """Pairwise (binary tree) reduction of delayed statistics; a fixed shape, so a fixed order."""
    level = list(items)
    while len(level) > 1:
        nxt = [dask.delayed(add_statistics, pure=True)(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def join_repetitions(blocks: list[Statistics]) -> Statistics:
    """Statistics of consecutive repetition blocks of one segment, joined along repetitions."""
    return {k: np.concatenate([b[k] for b in blocks], axis=0) for k in blocks[0]}


def _join_repetitions(*blocks: Statistics) -> Statistics:
    # Delayed arguments passed one by one, not in a list: dask wraps every list of delayed
    # values in a collection of its own, which cost more than the sums themselves.
    return join_repetitions(list(blocks))


def _cumulative(*segments: Statistics) -> Statistics:
    return cumulative(list(segments))


def cumulative(segments: list[Statistics]) -> Statistics:
    """Per-segment statistics -> statistics at each checkpoint, shape ``(checkpoints, R, ...)``.

    ``np.cumsum`` accumulates in order (``s0, s0 + s1, (s0 + s1) + s2, ...``), the same
    sums :func:`accumulate` forms one segment at a time.
    """
    return {k: np.cumsum(np.stack([s[k] for s in segments]), axis=0) for k in segments[0]}


def accumulate(previous: Statistics | None, segment: Statistics) -> Statistics:
    """Statistics at the next checkpoint: those at the last one plus the new segment's."""
    return dict(segment) if previous is None else add_statistics(previous, segment)


@dataclass
class Unit:
    """One (sweep point, detector) of a run, as the pipeline sees it."""

    point: int
    detector: int
    label: str
    make_model: Callable[[], Any]
    analyze: Callable[[Statistics], Any]


@dataclass
class Extra:
    """A per-point computation that needs no sampling (e.g. the quantum limit of the scene)."""

    point: int
    label: str
    function: Callable[[], Any]


def _segment_nodes(unit: Unit, model, seed: int, checkpoints: list[int], repetitions: int, pipeline,
                   token: str, samplers: list, segments: list[int] | None = None) -> dict[int, Any]:
    """Delayed statistics of each requested segment of one unit (repetition blocks joined)."""
    tasks = plan_tasks(unit.point, unit.detector, checkpoints, repetitions, pipeline)
    by_segment: dict[int, dict[tuple[int, ...], list]] = {}
    for i, task in enumerate(tasks):
        if segments is not None and task.segment not in segments:
            continue
        node = guarded_call(unit.label, sample_task, model, seed, Opaque(task), key=f"sample-{token}-{unit.point}-{unit.detector}-{i}")
        samplers.append(node)
        by_segment.setdefault(task.segment, {}).setdefault(task.repetitions, []).append(node)
    return {s: dask.delayed(_join_repetitions, pure=True)(*[tree_sum(g) for g in by_segment[s].values()])
            for s in sorted(by_segment)}


def _model_node(unit: Unit, token: str):
    return guarded_call(unit.label, unit.make_model, key=f"model-{token}-{unit.point}-{unit.detector}")


def build_graph(units: list[Unit], extra: list[Extra], seed: int, checkpoints: list[int], repetitions: int, pipeline):
    """Delayed results of every unit's analysis and every extra computation.

    Returns
    -------
    outputs : dict
        ``{("unit", point, detector) or ("extra", point): Delayed}``.
    samplers : list of Delayed
        The sample tasks (for progress reporting).

    Keys carry a token unique to this call, so that runs sharing a cluster never share
    (or mistake each other's) results.
    """
    token = uuid.uuid4().hex[:10]
    outputs, samplers = {}, []
    for unit in units:
        model = _model_node(unit, token)
        segments = _segment_nodes(unit, model, seed, checkpoints, repetitions, pipeline, token, samplers)
        stats = dask.delayed(_cumulative, pure=True)(*segments.values())
        outputs[("unit", unit.point, unit.detector)] = guarded_call(
            unit.label, unit.analyze, stats, key=f"analysis-{token}-{unit.point}-{unit.detector}")
    for item in extra:
        outputs[("extra", item.point)] = guarded_call(item.label, item.function, key=f"extra-{token}-{item.point}")
    return outputs, samplers


def build_segment_graph(units: list[Unit], seed: int, checkpoints: list[int], segment: int, repetitions: int, pipeline):
    """Delayed statistics of one checkpoint segment for every unit (used by target-precision runs).

    Returns ``({("segment", point, detector): Delayed}, samplers)``; the batches, seeds and
    tree sums are those :func:`build_graph` uses for the same segment.
    """
    token = uuid.uuid4().hex[:10]
    outputs, samplers = {}, []
    for unit in units:
        model = _model_node(unit, token)
        nodes = _segment_nodes(unit, model, seed, checkpoints, repetitions, pipeline, token, samplers, [segment])
        outputs[("segment", unit.point, unit.detector)] = nodes[segment]
    return outputs, samplers


class _Watch(Callback):
    """Progress and finished outputs on dask's in-process schedulers (callbacks run in the caller's thread)."""

    def __init__(self, bar, wanted: dict, on_result):
        super().__init__()
        self.bar, self.wanted, self.on_result = bar, wanted, on_result

    def _start_state(self, dsk, state):
        self.bar.total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished") if k in state)
        self.bar.refresh()

    def _posttask(self, key, result, dsk, state, worker_id):
        self.bar.update(1)
        if key in self.wanted:
            self.on_result(self.wanted[key], result)


def execute(outputs: dict, samplers: list, scheduler: str, client, progress: bool,
            on_result: Callable[[Any, Any], None], description: str = "sampling",
            describe: Callable[[Any], str] = lambda key: "a task of the run") -> None:
    """Compute ``outputs``, calling ``on_result(name, value)`` as each one finishes.

    On a distributed client only the outputs are held: each sample task's future is
    released as soon as it has finished (it counts for progress), so the cluster frees a
    batch's statistics once its tree sum has used them, and memory stays bounded however
    many batches a run has. A failed task raises its :class:`PointFailure` here (the
    remaining work is cancelled).
    """
    from tqdm.auto import tqdm

    names = list(outputs)
    delayed = [outputs[n] for n in names]
    with tqdm(desc=description, disable=not progress, unit="task", dynamic_ncols=True, leave=False) as bar:
        if client is None:
            wanted = {d.key: n for n, d in zip(names, delayed)}
            with _Watch(bar, wanted, on_result):
                dask.compute(*delayed, scheduler=_local_scheduler(scheduler))
            return
        from distributed import as_completed

        sampler_futures = client.compute(samplers)
        output_futures = client.compute(delayed)
        by_key = {f.key: n for f, n in zip(output_futures, names)}
        bar.total = len(sampler_futures) + len(output_futures)
        pending = as_completed(sampler_futures + output_futures)
        del sampler_futures  # the as_completed iterator holds them until they finish
        try:
            for future in pending:
                if future.status == "error":
                    try:
                        future.result()  # raises the task's error (a PointFailure naming the point)
                    except PointFailure:
                        raise
                    except Exception as err:  # lost workers, cancelled tasks: named by point, never by key
                        raise PointFailure(f"{describe(future.key)}: {_cluster_error(err)}") from None
                if future.key in by_key:
                    on_result(by_key[future.key], future.result())
                future.release()
                bar.update(1)
        except (PointFailure, KeyboardInterrupt):
            pending.clear()
            _cancel(client, output_futures)
            raise
        except Exception as err:  # the scheduler went away, or the connection did
            pending.clear()
            _cancel(client, output_futures)
            raise ClusterFailure(f"lost the dask scheduler at {getattr(client.scheduler, 'address', '?')} during the run: "
                                 f"{_cluster_error(err)}") from None


def _local_scheduler(name: str):
    """dask's in-process scheduler ``name`` as its function: given a name, dask imports
    ``distributed`` (half a second) to look for a client first."""
    if name == "synchronous":
        from dask.local import get_sync

        return get_sync
    if name == "threads":
        from dask.threaded import get

        return get
    return name


def _cancel(client, futures) -> None:
    try:
        client.cancel(futures)
    except Exception:  # noqa: BLE001 - a lost scheduler cannot cancel anything
        pass


def _cluster_error(err: BaseException) -> str:
    """One line for an error the cluster raised, without dask keys or tracebacks."""
    name = type(err).__name__
    if name == "KilledWorker":
        return ("KilledWorker: the workers computing it died repeatedly (out of memory, or killed); "
                "give workers more memory or lower pipeline.batch_size")
    if name == "CancelledError":
        return "CancelledError: the task was cancelled by the scheduler (a worker or the scheduler was lost)"
    text = " ".join(str(err).split())
    text = re.sub(r"'?\b(?:sample|model|analysis|extra)-[0-9a-f]{10}-[\d-]+'?", "a task", text)
    return f"{name}: {text}"[:300]


class ClusterFailure(RuntimeError):
    """The connection to the scheduler was lost during a run."""


def describe_key(labels: dict[tuple[int, int], str], point_labels: dict[int, str]):
    """A function naming the (sweep point, detector) of a task key built by :func:`build_graph`."""
    def describe(key) -> str:
        parts = str(key).split("-")
        try:
            point = int(parts[2])
            if parts[0] == "extra":
                return point_labels.get(point, f"sweep point {point}")
            return labels.get((point, int(parts[3])), f"sweep point {point}, detector {parts[3]}")
        except (IndexError, ValueError):
            return "a task of the run"
    return describe
