"""The Analysis contract: what a run computes from exact outcome models and reduced statistics.

An analysis is chosen by ``analysis.kind`` in a config. The pipeline calls
:meth:`Analysis.analyze_detector` once per (sweep point, detector) with the statistics
reduced at every copy checkpoint, and :meth:`Analysis.analyze_scene` once per sweep point;
:meth:`Analysis.assemble` turns those results into the run's ``xarray.Dataset``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
import xarray as xr
from pydantic import BaseModel


class Analysis(ABC):
    """Turns per-point results into labelled variables, plots and a summary."""

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]
    #: Typed states the scene must provide (``Scene.provides``).
    scene_provides: ClassVar[frozenset[type]] = frozenset()
    #: Capabilities every detector must declare (``Detector.capabilities``).
    detector_capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: BaseModel, seed: int = 0):
        self.settings = settings
        #: Root seed of the run (an analysis that draws numbers uses the ``seed`` it is passed).
        self.seed = int(seed)

    @classmethod
    def check(cls, settings: BaseModel, scene_cls: type, detector_classes: list[type]) -> list[str]:
        """Problems (``'field.path: message'``) with this analysis for the configured scene and detectors."""
        return []

    @abstractmethod
    def analyze_detector(self, scene, detector, statistics: dict, seed: np.random.SeedSequence | None = None) -> dict:
        """Results for one detector at one sweep point; ``statistics`` are ``(checkpoints, repetitions, ...)``."""

    @classmethod
    def target_parameters(cls, settings: BaseModel, scene_cls: type) -> list[str] | None:
        """Parameters a target-precision run may target (``None``: the analysis makes no estimates)."""
        return None

    def reference_detectors(self) -> list[dict]:
        """Detector configs (``{"kind": ..., "name": ..., ...}``) the analysis compares against
        without sampling them (e.g. a conventional scheme). The framework builds them from the
        registry and passes them to :meth:`analyze_scene` as ``references``, so an analysis never
        imports a concrete detector."""
        return []

    @abstractmethod
    def analyze_scene(self, scene, references=()) -> dict:
        """Results that do not depend on a configured detector (quantum limits, true values,
        the :meth:`reference_detectors` built for this point)."""

    @abstractmethod
    def assemble(self, config, raw: dict, dims: dict, detector_names: list[str],
                 scene_results: list[dict], detector_results: list[list[dict]]) -> xr.Dataset:
        """The run's dataset, sweep dims first; points arrive in sweep order."""

    def plots(self, ds: xr.Dataset, out: Path) -> list[Path]:
        """PNG files written to ``out``."""
        return []

    def summary(self, ds: xr.Dataset) -> str:
        """A short text table of the results."""
        return ""
