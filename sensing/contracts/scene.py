"""The Scene contract (see DESIGN.md, "Contracts").

A scene knows its parameters (names, true values, units, the interval an estimator
searches), builds a Strawberry Fields ``Program`` for given parameter values (run by
:mod:`sensing.contracts.engine`), and prepares the state of one copy (one temporal mode of
the light, one use of the channel) as each typed state it :attr:`~Scene.provides`:
:class:`~sensing.contracts.states.GaussianState` (from SF), and e.g.
:class:`~sensing.contracts.states.ThermalLight` (closed form, batched over parameter
points) or :class:`~sensing.contracts.states.ChannelProbe`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Mapping

import numpy as np
from pydantic import BaseModel

from sensing.contracts.engine import run_gaussian as _run_gaussian
from sensing.contracts.seeds import TASK_STREAM, generator, stream
from sensing.contracts.states import GaussianState


@dataclass(frozen=True)
class Parameter:
    """An unknown of a scene.

    Attributes
    ----------
    name : str
    value : float
        The true value in the simulation.
    unit : str
    bounds : tuple of float
        The interval an estimator searches (prior knowledge, not the truth).
    step : float
        Step for central finite differences of states in this parameter.
    """

    name: str
    value: float
    unit: str
    bounds: tuple[float, float]
    step: float


#: One-copy states a scene keeps (its truth and the finite-difference neighbours of a few parameters).
PREPARED_STATES = 32


class Scene(ABC):
    """A source of identical copies of a photonic state, depending on parameters.

    Subclasses set ``kind`` (the name configs use), ``Settings`` (a pydantic model with the
    same ``kind`` literal) and ``provides``, and are registered through the entry-point group
    ``sensing.scenes`` (:mod:`sensing.study.registry`).
    """

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]
    #: Names of the parameters, in order (known before a scene is built, for validation).
    parameter_names: ClassVar[tuple[str, ...]] = ()
    #: The ``analysis.kind`` used when a config has no ``analysis`` section.
    default_analysis: ClassVar[str] = "parameter_estimation"
    #: The typed states :meth:`prepare` can return (detectors declare the one they accept).
    provides: ClassVar[frozenset[type]] = frozenset({GaussianState})

    def __init__(self, settings: BaseModel, seed: int = 0):
        self.settings = settings
        #: Root seed of the run; a scene whose task is random draws it from :meth:`task_generator`.
        self.seed = int(seed)

    def task_generator(self, *key: int) -> np.random.Generator:
        """Generator of the task stream ``key`` of the run's root seed (:mod:`sensing.contracts.seeds`)."""
        return generator(stream(self.seed, TASK_STREAM), *key)

    @property
    @abstractmethod
    def parameters(self) -> dict[str, Parameter]:
        """The scene's parameters by name, with their true values."""

    @property
    @abstractmethod
    def photons_per_copy(self) -> float:
        """Mean number of photons one copy brings to the detectors (before their efficiency)."""

    @classmethod
    def example(cls) -> dict:
        """A small config of this scene for the shared check suite (:func:`sensing.testing.check_scene`)."""
        raise NotImplementedError(f"{cls.__name__} has no example() for the check suite")

    def values(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """True parameter values, with some replaced by ``overrides``."""
        values = {name: p.value for name, p in self.parameters.items()}
        for name, value in (overrides or {}).items():
            if name not in values:
                raise KeyError(f"{type(self).__name__} has no parameter {name!r}; it has {sorted(values)}")
            values[name] = float(value)
        return values

    @abstractmethod
    def program(self, values: Mapping[str, float] | None = None):
        """A Strawberry Fields ``Program`` preparing one copy at these parameter values."""

    @abstractmethod
    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        """The state of one copy, computed by running :meth:`program` on an SF backend."""

    def prepare(self, state_type: type, values: Mapping[str, float] | None = None):
        """The one-copy state at ``values`` as ``state_type``, one of :attr:`provides`.

        Raises
        ------
        TypeError
            If the scene does not provide ``state_type`` (validation refuses such configs first).
        """
        if state_type not in self.provides:
            raise TypeError(f"source kind {self.kind!r} provides {sorted(t.__name__ for t in self.provides)}, "
                            f"not {state_type.__name__}")
        # A sweep point's states are computed once, however many detectors, analyses and target
        # rounds ask for them (batches of parameter points, e.g. likelihood grids, are not kept).
        scalar = all(np.ndim(v) == 0 for v in (values or {}).values())
        key = (state_type, tuple(sorted((k, float(v)) for k, v in (values or {}).items()))) if scalar and PREPARED_STATES else None
        cache = self.__dict__.setdefault("_prepared", {})
        if key is not None and key in cache:
            return cache[key]
        state = self.state(values) if state_type is GaussianState else self.typed_state(state_type, values)
        if key is not None:
            if len(cache) >= PREPARED_STATES:
                cache.pop(next(iter(cache)))
            cache[key] = state
        return state

    def typed_state(self, state_type: type, values: Mapping[str, float] | None = None):
        """Subclasses: the non-SF typed states they provide (closed forms, channel probes)."""
        raise NotImplementedError(f"{type(self).__name__} declares {state_type.__name__} in provides but does not build it")

    def state_derivatives(self, names: list[str]) -> tuple[GaussianState, list[tuple[GaussianState, GaussianState, float]]]:
        """The state at the truth and, for each parameter, the states at value -/+ step.

        Returns
        -------
        state, [(minus, plus, step), ...]
            Central finite differences are ``(f(plus) - f(minus)) / (2 * step)``.
        """
        centre = self.prepare(GaussianState)
        pairs = []
        for name in names:
            p = self.parameters[name]
            h = p.step
            minus = self.prepare(GaussianState, {name: p.value - h})
            plus = self.prepare(GaussianState, {name: p.value + h})
            pairs.append((minus, plus, h))
        return centre, pairs

    @staticmethod
    def run_gaussian(program) -> GaussianState:
        """Run ``program`` through :func:`sensing.contracts.engine.run_gaussian`."""
        return _run_gaussian(program)
