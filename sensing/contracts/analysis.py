"""The Analysis contract: what a run computes from exact outcome models and reduced statistics.

An analysis is chosen by ``analysis.kind`` in a config. The pipeline calls
:meth:`Analysis.analyze_detector` once per (sweep point, detector) with the statistics
reduced at every copy checkpoint, and :meth:`Analysis.analyze_scene` once per sweep point;
:meth:`Analysis.point_dataset` turns one point's results into a labelled ``xarray.Dataset``
(no sweep dims). The framework concatenates the points along the sweep dims
(:func:`sensing.results.assemble`), writes the file and hands :meth:`plots` and
:meth:`summary` the run's dataset, whose sweep dims it records (:func:`sweep_dims`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import json

import numpy as np
import xarray as xr
from pydantic import BaseModel


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, columns right-aligned (the summaries of every analysis)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def sweep_dims(ds: xr.Dataset) -> list[str]:
    """The sweep dims of a run's dataset, in config order (recorded by the framework)."""
    return list(json.loads(ds.attrs.get("sweep_dims", "[]")))


class Analysis(ABC):
    """Turns per-point results into labelled variables, plots and a summary."""

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]
    #: Typed states the scene must provide (``Scene.provides``).
    scene_provides: ClassVar[frozenset[type]] = frozenset()
    #: Capabilities every detector must declare (``Detector.capabilities``).
    detector_capabilities: ClassVar[frozenset[str]] = frozenset()
    #: ``{variable: description}`` of the variables :meth:`point_dataset` returns (the README schema).
    schema: ClassVar[dict[str, str]] = {}
    #: Dims of those variables (other than sweep dims).
    result_dims: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def result_names(cls) -> frozenset[str]:
        """Names a sweep dim may not take: the result variables, their dims and coordinates."""
        return frozenset(cls.schema) | cls.result_dims
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
    def example(cls) -> dict:
        """Small settings of this analysis for the shared check suite (:func:`sensing.testing.check_analysis`)."""
        return {"kind": cls.kind}

    @classmethod
    def target_parameters(cls, settings: BaseModel, scene_cls: type) -> list[str] | None:
        """Parameters a target-precision run may target (``None``: the analysis makes no estimates)."""
        return None

    def target_error(self, scene, detector, statistics: dict, parameter: str) -> float:
        """Estimated relative error of ``parameter`` from one checkpoint's statistics (target
        runs); only analyses whose :meth:`target_parameters` is not ``None`` implement it."""
        raise NotImplementedError(f"analysis {self.kind!r} makes no estimates")

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
    def point_dataset(self, config, scene_result: dict, detector_results: list[dict],
                      detector_names: list[str]) -> xr.Dataset:
        """One sweep point's labelled results (dims named, ``long_name``/``units`` attributes),
        from :meth:`analyze_scene` and every detector's :meth:`analyze_detector`.
        ``config`` is the point's validated config (``copies`` as run)."""

    #: File names :meth:`artifacts` may write (checked before a run, so that an existing one is
    #: refused without ``--overwrite`` before any work).
    artifact_files: ClassVar[tuple[str, ...]] = ()

    def artifacts(self, points: list[dict], detector_names: list[str]) -> dict[str, dict[str, dict]]:
        """Extra data the framework writes beside ``results.nc`` (e.g. raw snapshots to ask new
        questions of later), from every sweep point's results (``{"scene": ..., "detectors": [...]}``
        in sweep order): ``{file name: {group path: {"arrays": {name: ndarray}, "attrs": {...}}}}``.
        Written atomically as NetCDF groups with checksums by :mod:`sensing.snapshots`. Default: none."""
        return {}

    def plots(self, ds: xr.Dataset, out: Path) -> list[Path]:
        """PNG files written to ``out``."""
        return []

    def summary(self, ds: xr.Dataset) -> str:
        """A short text table of the results."""
        return ""
