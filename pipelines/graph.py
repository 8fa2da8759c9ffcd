"""The dask graph of a run: build models, sample and reduce batches, tree-reduce, analyze.

For every (sweep point, detector)::

    model ──> sample tasks (batches x repetitions) ──> tree sum per segment
          ──> cumulative sums at the copy checkpoints ──> analysis

The functions that build models and analyze statistics are passed in, so this module
knows dask and batching but no physics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import dask
import numpy as np
from dask.callbacks import Callback

from detectors.base import Statistics, add_statistics
from pipelines.batches import Task, batch_generator, plan_tasks


class PointFailure(RuntimeError):
    """A task of a sweep point failed; the message names the point and the detector."""


def _guard(label: str, function: Callable, *args):
    try:
        return function(*args)
    except PointFailure:
        raise
    except Exception as err:  # re-raised with the sweep point named, original chained
        raise PointFailure(f"{label}: {type(err).__name__}: {err}") from err


def sample_task(model, seed: int, task: Task) -> Statistics:
    """Sufficient statistics of the task's batches, one row per repetition."""
    rows = []
    for rep in task.repetitions:
        total = None
        for batch in task.batches:
            part = model.sample_statistics(batch_generator(seed, task.point, task.detector, rep, batch), batch.copies)
            total = part if total is None else add_statistics(total, part)
        rows.append(total)
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def tree_sum(items: list):
    """Pairwise (binary tree) reduction of delayed statistics; a fixed shape, so a fixed order."""
    level = list(items)
    while len(level) > 1:
        nxt = [dask.delayed(add_statistics, pure=True)(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def cumulative(per_segment: list[list[Statistics]]) -> Statistics:
    """Per segment, repetition blocks -> statistics at each checkpoint, shape ``(checkpoints, R, ...)``."""
    blocks = [{k: np.concatenate([b[k] for b in blocks_], axis=0) for k in blocks_[0]} for blocks_ in per_segment]
    keys = blocks[0].keys()
    return {k: np.cumsum(np.stack([b[k] for b in blocks]), axis=0) for k in keys}


@dataclass
class Unit:
    """One (sweep point, detector) of a run, as the pipeline sees it."""

    point: int
    detector: int
    label: str
    make_model: Callable[[], Any]
    analyze: Callable[[Statistics], Any]


def build_graph(units: list[Unit], extra: list[tuple[str, Callable[[], Any]]], seed: int, checkpoints: list[int], repetitions: int, pipeline):
    """Delayed results of every unit's analysis, followed by those of ``extra`` callables.

    Returns
    -------
    outputs : list of Delayed
    samplers : list of Delayed
        The sample tasks (for progress reporting).
    """
    outputs, samplers = [], []
    for unit in units:
        model = dask.delayed(_guard, pure=True)(unit.label, unit.make_model, dask_key_name=f"model-{unit.point}-{unit.detector}")
        tasks = plan_tasks(unit.point, unit.detector, checkpoints, repetitions, pipeline)
        by_segment: dict[int, dict[tuple[int, ...], list]] = {}
        for i, task in enumerate(tasks):
            node = dask.delayed(_guard, pure=True)(
                unit.label, sample_task, model, seed, task, dask_key_name=f"sample-{unit.point}-{unit.detector}-{i}"
            )
            samplers.append(node)
            by_segment.setdefault(task.segment, {}).setdefault(task.repetitions, []).append(node)
        per_segment = [[tree_sum(groups) for groups in by_segment[s].values()] for s in sorted(by_segment)]
        stats = dask.delayed(cumulative, pure=True)(per_segment)
        outputs.append(dask.delayed(_guard, pure=True)(unit.label, unit.analyze, stats, dask_key_name=f"analysis-{unit.point}-{unit.detector}"))
    for i, (label, function) in enumerate(extra):
        outputs.append(dask.delayed(_guard, pure=True)(label, function, dask_key_name=f"extra-{i}"))
    return outputs, samplers


class _Bar(Callback):
    """tqdm progress for dask's in-process schedulers."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def _start_state(self, dsk, state):
        self.bar.total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished") if k in state)
        self.bar.refresh()

    def _posttask(self, key, result, dsk, state, worker_id):
        self.bar.update(1)


def execute(outputs: list, samplers: list, scheduler: str, client, progress: bool, description: str = "sampling") -> list:
    """Compute the outputs on dask's in-process scheduler or on a distributed client."""
    from tqdm.auto import tqdm

    with tqdm(desc=description, disable=not progress, unit="task", dynamic_ncols=True) as bar:
        if client is None:
            with _Bar(bar):
                return list(dask.compute(*outputs, scheduler=scheduler))
        from distributed import as_completed

        futures = client.compute(samplers + outputs)
        bar.total = len(futures)
        for future in as_completed(futures):
            if future.status == "error":
                future.result()  # raises the task's error
            bar.update(1)
        return client.gather(futures[len(samplers):])
