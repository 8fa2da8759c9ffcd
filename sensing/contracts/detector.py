"""The Detector contract (DESIGN.md, "Contracts").

A detector turns the state of one copy into an :class:`OutcomeModel`: exact moments of the
per-copy statistic (for Fisher information and likelihoods), a sampler vectorised over
copies that takes a ``numpy.random.Generator``, and a reducer to sufficient statistics whose
results add up across batches.

Statistics are plain ``dict[str, ndarray]``; the entries of two batches add elementwise
(:func:`add_statistics`). Integer entries add exactly, so results do not depend on how
batches were grouped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Statistics = dict[str, np.ndarray]

#: Outcome values (copies x outputs) a per-copy sampler holds at once: bounds its memory
#: (about 32 MiB of int64 per array) whatever the batch size.
SAMPLE_ELEMENTS = 1 << 22


def chunk_size(outputs: int) -> int:
    """Copies a per-copy sampler draws at once for ``outputs`` values per copy."""
    return max(1, SAMPLE_ELEMENTS // max(1, outputs))


def add_statistics(a: Statistics, b: Statistics) -> Statistics:
    """Sum two batches' statistics key by key."""
    if a.keys() != b.keys():
        raise ValueError(f"statistics with different entries cannot be added: {sorted(a)} vs {sorted(b)}")
    return {key: a[key] + b[key] for key in a}


class DetectorSettings(BaseModel):
    """Fields every detector has in a config."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$", description="label of the detector in results")
    efficiency: float = Field(1.0, ge=0.0, le=1.0, description="detection efficiency (transmission before ideal detectors)")


class OutcomeModel(ABC):
    """Exact outcome model of one detector on one state.

    The per-copy statistic is a vector of ``len(labels)`` numbers (counts, clicks or
    quadrature values); its sufficient statistic over many copies is what
    :meth:`reduce` returns.
    """

    #: One of ``"counts"``, ``"clicks"``, ``"gaussian"``: fixes the likelihood family.
    family: ClassVar[str]

    labels: list[str]

    @abstractmethod
    def mean(self) -> np.ndarray:
        """Per-copy mean of the statistic, shape ``(..., n)`` (batched over parameter points)."""

    def signal_mean(self) -> np.ndarray:
        """Mean detected signal photons per output per copy (NaN where the statistic is not a
        photon count)."""
        return np.full(len(self.labels), np.nan)

    @abstractmethod
    def covariance(self) -> np.ndarray:
        """Per-copy covariance of the statistic, shape ``(n, n)``."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, copies: int) -> np.ndarray:
        """Raw outcomes of ``copies`` copies, shape ``(copies, n)``."""

    @abstractmethod
    def reduce(self, outcomes: np.ndarray) -> Statistics:
        """Sufficient statistics of raw outcomes (entries add across batches)."""

    def sample_statistics(self, rng: np.random.Generator, copies: int) -> Statistics:
        """Sufficient statistics of ``copies`` fresh copies.

        The default samples per copy in chunks of :func:`chunk_size` copies and reduces each;
        models override it with exact samplers whose cost does not grow with ``copies``.
        """
        total: Statistics | None = None
        chunk = chunk_size(len(self.labels))
        for start in range(0, copies, chunk):
            part = self.reduce(self.sample(rng, min(chunk, copies - start)))
            total = part if total is None else add_statistics(total, part)
        return total if total is not None else self.reduce(self.sample(rng, 0))

    #: Optional ``sample_block(rng, copies, repetitions) -> Statistics``: the statistics of
    #: ``repetitions`` independent repetitions of ``copies`` copies in one vectorised call
    #: (entries with a leading repetition axis, ``copies`` an array), for exact samplers whose
    #: one call costs microseconds. The pipeline then draws blocks of repetitions from one
    #: stream each (:mod:`sensing.pipelines.batches`); None: one :meth:`sample_statistics`
    #: call per repetition and batch.
    sample_block = None

    def draws_per_copy(self) -> float:
        """Random numbers :meth:`sample_statistics` draws per copy, for the run's cost estimate.

        The per-copy default draws about one number per output and copy; models whose exact
        sampler costs nothing per copy (sufficient statistics drawn directly) return 0.
        """
        if type(self).sample_statistics is OutcomeModel.sample_statistics:
            return float(max(1, len(self.labels)))
        return 0.0

    @abstractmethod
    def log_likelihood(self, statistics: Statistics) -> np.ndarray:
        """Log-likelihood of reduced statistics (leading dim R) at each parameter point.

        Returns shape ``(G, R)`` for a model batched over G parameter points (up to a
        constant independent of the parameters).
        """

    def locating_log_likelihood(self, statistics: Statistics, paired: bool = False) -> np.ndarray:
        """A cheaper criterion whose maximiser is a consistent estimate, used only to locate the
        maximum before Fisher scoring on the exact score (default: :meth:`log_likelihood`)."""
        return self.log_likelihood(statistics, paired=paired)

    def fisher_contribution(self, mean_derivatives: np.ndarray, covariance_derivatives: np.ndarray | None) -> np.ndarray:
        r"""Fisher information per copy carried by the sufficient statistic.

        :math:`J = \partial\mu^T C^{-1} \partial\mu` with the exact per-copy moments: the
        information of the summed statistic in the many-copy (central-limit) regime, which is
        where the Cramer-Rao bound is attained. Outputs with zero variance are dropped.
        """
        cov = self.covariance()
        keep = np.diag(cov) > 0
        d = mean_derivatives[:, keep]
        inv = np.linalg.pinv(cov[np.ix_(keep, keep)], rcond=1e-13, hermitian=True)
        return d @ inv @ d.T


#: Detector attributes that are caches, left out when a detector is pickled (for a cluster).
PICKLE_DROPS = frozenset({"_operator_cache"})


class Detector(ABC):
    """A measurement applied to each copy, or collectively to copies held in a memory."""

    kind: ClassVar[str]
    Settings: ClassVar[type[DetectorSettings]]
    #: The typed state :meth:`outcome_model` takes; the scene must list it in ``Scene.provides``.
    accepts: ClassVar[type]
    #: What the outcome models offer analyses: ``"likelihood"`` (``log_likelihood``, moments and
    #: ``fisher_contribution`` of the reduced statistics, for estimation) or
    #: ``"channel_estimate"`` (an unbiased estimator of a channel's characteristic function).
    capabilities: ClassVar[frozenset[str]] = frozenset()
    #: 1 for per-copy measurements; k for a collective measurement on k stored copies.
    copies_per_measurement: ClassVar[int] = 1

    def __init__(self, settings: DetectorSettings):
        self.settings = settings

    def __getstate__(self) -> dict:
        # Caches of operators (a 1-D camera's pixel matrices are 0.75 MB) are rebuilt where the
        # detector is unpickled, in milliseconds, rather than sent with every cluster task.
        return {k: v for k, v in self.__dict__.items() if k not in PICKLE_DROPS}

    @property
    def name(self) -> str:
        return self.settings.name

    @classmethod
    def example(cls) -> tuple[dict, dict]:
        """A small exact case for the shared contract tests: ``(scene settings, detector settings)``.

        The scene should be bright enough that a few thousand copies show every outcome.
        """
        raise NotImplementedError(f"{cls.__name__} has no example() for the contract tests")

    @classmethod
    def examples(cls) -> list[tuple[dict, dict]]:
        """All cases the contract tests run: :meth:`example`, plus variants a detector adds
        (e.g. a 2-D image plane)."""
        return [cls.example()]

    def output_labels(self, state) -> list[str]:
        """Labels of the per-copy statistic on ``state``; raises ``ValueError`` if the detector
        cannot serve this state (e.g. too many pixels). Detectors override it with a cheaper
        computation than building the model."""
        return list(self.outcome_model(state).labels)

    @abstractmethod
    def outcome_model(self, state) -> OutcomeModel:
        """The exact outcome model on ``state``, an instance of :attr:`accepts` (for
        ``ThermalLight`` possibly batched over parameter points)."""
