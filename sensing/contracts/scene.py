"""The Scene contract (see DESIGN.md, "Contracts").

A scene knows its parameters (names, true values, units, the interval an estimator
searches), builds a Strawberry Fields ``Program`` for given parameter values, and returns
the :class:`~sensing.contracts.states.GaussianState` of one copy (one temporal mode of the light,
one use of the channel).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Mapping

import numpy as np
from pydantic import BaseModel

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


class Scene(ABC):
    """A source of identical copies of a photonic state, depending on parameters.

    Subclasses set ``Settings`` (a pydantic model with a ``kind`` literal) and register
    themselves with :func:`sensing.study.registry.register_scene`.
    """

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]
    #: Names of the parameters, in order (known before a scene is built, for validation).
    parameter_names: ClassVar[tuple[str, ...]] = ()
    #: The ``analysis.kind`` used when a config has no ``analysis`` section.
    default_analysis: ClassVar[str] = "parameter_estimation"
    #: What the scene's states offer detectors, e.g. ``{"image_plane", "classical"}``.
    provides: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: BaseModel):
        self.settings = settings

    @property
    @abstractmethod
    def parameters(self) -> dict[str, Parameter]:
        """The scene's parameters by name, with their true values."""

    @property
    @abstractmethod
    def photons_per_copy(self) -> float:
        """Mean number of photons one copy brings to the detectors (before their efficiency)."""

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

    def state_derivatives(self, names: list[str]) -> tuple[GaussianState, list[tuple[GaussianState, GaussianState, float]]]:
        """The state at the truth and, for each parameter, the states at value -/+ step.

        Returns
        -------
        state, [(minus, plus, step), ...]
            Central finite differences are ``(f(plus) - f(minus)) / (2 * step)``.
        """
        centre = self.state()
        pairs = []
        for name in names:
            p = self.parameters[name]
            h = p.step
            minus = self.state({name: p.value - h})
            plus = self.state({name: p.value + h})
            pairs.append((minus, plus, h))
        return centre, pairs

    @staticmethod
    def run_gaussian(program) -> GaussianState:
        """Run ``program`` on SF's gaussian backend and return its state (no measurements)."""
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        state = sf.Engine("gaussian").run(program).state
        return GaussianState(np.asarray(state.cov()), np.asarray(state.means()))
