"""Copies split into batches, batches grouped into tasks, and a seed for every batch.

A run asks for statistics after ``copies[0] < copies[1] < ...`` copies. The copy axis is
cut at every checkpoint (segments) and every ``batch_size`` copies within a segment
(batches). Each batch of each repetition has its own seed,
``SeedSequence(seed, spawn_key=(point, detector, repetition, segment, batch))``, the same
child ``SeedSequence(seed).spawn`` would derive for that key path, so the numbers do not
depend on which worker runs which batch, in which order, or on how many workers there are.

Models with a block sampler (``OutcomeModel.sample_block``: exact sufficient-statistic
samplers, whose one call costs microseconds whatever the copies) draw the repetitions of a
block of :data:`REPETITION_BLOCK` together, in one vectorised call, from the block's seed
``SeedSequence(seed, spawn_key=(point, detector, BLOCK_KEY + block, segment, batch))`` with
``block = repetition // REPETITION_BLOCK``. A block is always drawn whole (rows beyond the
run's repetitions are dropped), so repetition r's numbers depend neither on the number of
repetitions nor on how tasks group them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Repetitions a block sampler draws together (a constant: changing it changes the numbers).
REPETITION_BLOCK = 16
#: Block streams' third key is ``BLOCK_KEY + block``; per-repetition keys are below 10^5
#: (``MAX_REPETITIONS``), so the two never meet.
BLOCK_KEY = 2**30


@dataclass(frozen=True)
class Batch:
    """``copies`` consecutive copies: batch ``index`` of checkpoint segment ``segment``."""

    segment: int
    index: int
    copies: int


@dataclass(frozen=True)
class Task:
    """Work of one dask task: some batches of one segment, for some repetitions."""

    point: int
    detector: int
    segment: int
    repetitions: tuple[int, ...]
    batches: tuple[Batch, ...]


def segment_batches(checkpoints: list[int], batch_size: int) -> list[list[Batch]]:
    """Batches of each segment ``[checkpoints[j-1], checkpoints[j])`` (from 0 for j = 0)."""
    out = []
    previous = 0
    for segment, stop in enumerate(checkpoints):
        size = stop - previous
        full, rest = divmod(size, batch_size)
        sizes = [batch_size] * full + ([rest] if rest else [])
        out.append([Batch(segment, i, n) for i, n in enumerate(sizes)])
        previous = stop
    return out


def plan_tasks(point: int, detector: int, checkpoints: list[int], repetitions: int, pipeline) -> list[Task]:
    """All tasks of one (sweep point, detector), grouped as the config says (never by workers)."""
    tasks = []
    reps = range(repetitions)
    for batches in segment_batches(checkpoints, pipeline.batch_size):
        for r0 in range(0, repetitions, pipeline.repetitions_per_task):
            rep_block = tuple(reps[r0:r0 + pipeline.repetitions_per_task])
            for b0 in range(0, len(batches), pipeline.batches_per_task):
                group = tuple(batches[b0:b0 + pipeline.batches_per_task])
                tasks.append(Task(point, detector, group[0].segment, rep_block, group))
    return tasks


def batch_generator(seed: int, point: int, detector: int, repetition: int, batch: Batch) -> np.random.Generator:
    """The random generator of one batch of one repetition."""
    key = (point, detector, repetition, batch.segment, batch.index)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def block_generator(seed: int, point: int, detector: int, block: int, batch: Batch) -> np.random.Generator:
    """The random generator of one batch of one block of :data:`REPETITION_BLOCK` repetitions."""
    key = (point, detector, BLOCK_KEY + block, batch.segment, batch.index)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
