"""Every random draw of a run comes from the config's root ``seed``, by position.

Streams are :class:`numpy.random.SeedSequence` objects keyed by where a draw belongs, never by
a name (renaming a detector changes no number):

- sampling: ``(point, detector, repetition, segment, batch)``, or for models with a block
  sampler ``(point, detector, 2**30 + block, segment, batch)`` (:mod:`sensing.pipelines.batches`);
  sweep points are fewer than 10^4, so these keys never start with the stream tags below;
- the task a scene poses (query sets, random mixture components): ``(TASK_STREAM, what, ...)``;
- draws an analysis makes itself (e.g. empirical sample-complexity runs):
  ``(ANALYSIS_STREAM, point, detector, ...)``.
"""

from __future__ import annotations

import numpy as np

#: First key of the streams that define a scene's task (the same at every sweep point).
TASK_STREAM = 2**31 + 1
#: First key of the streams analyses draw from.
ANALYSIS_STREAM = 2**31 + 2


def stream(root: int, *key: int) -> np.random.SeedSequence:
    """The seed sequence of the stream ``key`` of the run with root seed ``root``."""
    return np.random.SeedSequence(int(root), spawn_key=tuple(int(k) for k in key))


def generator(seed: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """A generator for the child ``key`` of ``seed`` (appended to its spawn key)."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + tuple(int(k) for k in key))
    return np.random.Generator(np.random.PCG64(child))
