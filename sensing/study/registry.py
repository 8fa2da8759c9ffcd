"""Registries of the names used in configs: scenes, detectors and analyses, found through entry points.

A plugin declares its config name once, on the class (``kind = "camera"``), and its
distribution lists it under one of the entry-point groups (as xarray finds its backends)::

    [project.entry-points."sensing.detectors"]
    camera = "sensing.detectors.counting:Camera"

Nothing here imports a plugin by name, and no plugin imports this module: a third party's
package adds a detector by declaring an entry point, without editing this one. The tables
load on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points

#: Entry-point groups, by what they register.
GROUPS = {"scene": "sensing.scenes", "detector": "sensing.detectors", "analysis": "sensing.analyses"}


class PluginError(RuntimeError):
    """A registered plugin cannot be loaded or does not declare itself consistently."""


class Registry(Mapping):
    """``{kind: class}`` for one entry-point group, loaded on first access."""

    def __init__(self, what: str):
        self.what = what
        self.group = GROUPS[what]
        self._table: dict[str, type] | None = None

    def _load(self) -> dict[str, type]:
        if self._table is None:
            table: dict[str, type] = {}
            for point in entry_points(group=self.group):
                try:
                    cls = point.load()
                except Exception as err:  # a broken third-party plugin is named, not a bare traceback
                    raise PluginError(f"{self.what} plugin {point.name!r} ({point.value}) failed to load: {err}") from err
                kind = getattr(cls, "kind", None)
                if kind != point.name:
                    raise PluginError(f"{self.what} plugin {point.value} declares kind {kind!r} but is registered as {point.name!r}")
                if point.name in table and table[point.name] is not cls:
                    raise PluginError(f"{self.what} kind {point.name!r} is registered twice "
                                      f"({table[point.name].__module__} and {cls.__module__})")
                table[point.name] = cls
            if not table:
                raise PluginError(f"no {self.what} plugins are registered in entry-point group {self.group!r}: "
                                  "is the package installed (pip install -e .)?")
            self._table = dict(sorted(table.items()))
        return self._table

    def register(self, cls: type) -> type:
        """Add ``cls`` under its ``kind`` for this process (notebooks, tests, trying a plugin
        before packaging it); an installed plugin declares an entry point instead."""
        kind = getattr(cls, "kind", None)
        if not isinstance(kind, str) or not kind:
            raise PluginError(f"{cls.__name__} declares no kind")
        table = self._load()
        if kind in table and table[kind] is not cls:
            raise PluginError(f"{self.what} kind {kind!r} is already registered ({table[kind].__module__})")
        table[kind] = cls
        return cls

    def unregister(self, kind: str) -> None:
        """Remove a kind added with :meth:`register`."""
        self._load().pop(kind, None)

    def __getitem__(self, kind: str) -> type:
        return self._load()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {sorted(self._load())})"


SCENES = Registry("scene")
DETECTORS = Registry("detector")
ANALYSES = Registry("analysis")


def load_plugins() -> None:
    """Load every registered scene, detector and analysis now (errors surface here)."""
    for table in (SCENES, DETECTORS, ANALYSES):
        table._load()
