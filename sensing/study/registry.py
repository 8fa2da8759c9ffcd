"""Registries of the names used in configs: scenes, detectors and analyses, found through entry points.

A plugin declares its config name once, on the class (``kind = "camera"``), and its
distribution lists it under one of the entry-point groups (as xarray finds its backends)::

    [project.entry-points."sensing.detectors"]
    camera = "sensing.detectors.counting:Camera"

Nothing here imports a plugin by name, and no plugin imports this module: a third party's
package adds a detector by declaring an entry point, without editing this one. The kinds
are listed from the entry points' names without importing anything; each plugin's module is
imported when its kind is first looked up, so a run imports only the plugins its config names
(:func:`load_plugins` imports them all).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points

#: Entry-point groups, by what they register.
GROUPS = {"scene": "sensing.scenes", "detector": "sensing.detectors", "analysis": "sensing.analyses"}


class PluginError(RuntimeError):
    """A registered plugin cannot be loaded or does not declare itself consistently."""


class Registry(Mapping):
    """``{kind: class}`` for one entry-point group.

    The kinds are the entry points' names, listed without importing anything; a plugin's
    module is imported when its kind is first looked up (``registry[kind]``), so a run loads
    only the plugins its config names. Iterating over the keys imports nothing; ``items()``,
    ``values()`` and :meth:`load_all` import every plugin.
    """

    def __init__(self, what: str):
        self.what = what
        self.group = GROUPS[what]
        self._points: dict[str, list] | None = None  # entry-point name -> its entry points
        self._table: dict[str, type] = {}  # kinds loaded (or registered) so far
        self._added: list[str] = []  # kinds registered in this process, in order
        self._removed: set[str] = set()  # entry-point kinds unregistered in this process
        self._lock = threading.RLock()

    def _entry_points(self) -> dict[str, list]:
        if self._points is None:
            points: dict[str, list] = {}
            for point in entry_points(group=self.group):
                points.setdefault(point.name, []).append(point)
            if not points:
                raise PluginError(f"no {self.what} plugins are registered in entry-point group {self.group!r}: "
                                  "is the package installed (pip install -e .)?")
            self._points = dict(sorted(points.items()))
        return self._points

    def kinds(self) -> list[str]:
        """Every kind available: the entry points' names (sorted), then kinds registered in
        this process (in order); nothing is imported."""
        with self._lock:
            names = [k for k in self._entry_points() if k not in self._removed]
            return names + [k for k in self._added if k not in names]

    def _load_kind(self, kind: str) -> type:
        """Import the entry point(s) registered as ``kind`` and check they declare it."""
        table: dict[str, type] = {}
        for point in self._entry_points()[kind]:
            try:
                cls = point.load()
            except Exception as err:  # a broken third-party plugin is named, not a bare traceback
                raise PluginError(f"{self.what} plugin {point.name!r} ({point.value}) failed to load: {err}") from err
            declared = getattr(cls, "kind", None)
            if declared != point.name:
                raise PluginError(f"{self.what} plugin {point.value} declares kind {declared!r} but is registered as {point.name!r}")
            if point.name in table and table[point.name] is not cls:
                raise PluginError(f"{self.what} kind {point.name!r} is registered twice "
                                  f"({table[point.name].__module__} and {cls.__module__})")
            table[point.name] = cls
        return table[kind]

    def load_all(self) -> dict[str, type]:
        """``{kind: class}`` with every plugin imported now (errors surface here)."""
        return {kind: self[kind] for kind in self.kinds()}

    def register(self, cls: type) -> type:
        """Add ``cls`` under its ``kind`` for this process (notebooks, tests, trying a plugin
        before packaging it); an installed plugin declares an entry point instead."""
        kind = getattr(cls, "kind", None)
        if not isinstance(kind, str) or not kind:
            raise PluginError(f"{cls.__name__} declares no kind")
        with self._lock:
            if kind in self and self[kind] is not cls:
                raise PluginError(f"{self.what} kind {kind!r} is already registered ({self[kind].__module__})")
            self._table[kind] = cls
            self._removed.discard(kind)
            if kind not in self._entry_points() and kind not in self._added:
                self._added.append(kind)
        return cls

    def unregister(self, kind: str) -> None:
        """Remove a kind added with :meth:`register`."""
        with self._lock:
            self._table.pop(kind, None)
            if kind in self._added:
                self._added.remove(kind)
            if kind in self._entry_points():
                self._removed.add(kind)

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and kind in self.kinds()

    def __getitem__(self, kind: str) -> type:
        cls = self._table.get(kind)
        if cls is not None:
            return cls
        if kind not in self:
            raise KeyError(kind)
        loaded = self._load_kind(kind)  # outside the lock: an import takes its own locks
        with self._lock:
            return self._table.setdefault(kind, loaded)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds())

    def __len__(self) -> int:
        return len(self.kinds())

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {sorted(self.kinds())})"


SCENES = Registry("scene")
DETECTORS = Registry("detector")
ANALYSES = Registry("analysis")


def load_plugins() -> None:
    """Load every registered scene, detector and analysis now (errors surface here)."""
    for table in (SCENES, DETECTORS, ANALYSES):
        table.load_all()
