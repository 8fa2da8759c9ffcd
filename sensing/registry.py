"""Registries of the names used in configs: scenes and detectors.

A class registers itself under the ``kind`` a config uses for it::

    @register_scene("two_point")
    class TwoPointScene(Scene): ...

Adding a scene or a detector never means editing a dispatcher: the configuration
schema is assembled from whatever is registered (see :mod:`sensing.config`).
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")

SCENES: dict[str, type] = {}
DETECTORS: dict[str, type] = {}
ANALYSES: dict[str, type] = {}


def _register(table: dict[str, type], kind: str) -> Callable[[type[T]], type[T]]:
    def decorator(cls: type[T]) -> type[T]:
        if kind in table and table[kind] is not cls:
            raise ValueError(f"{kind!r} is registered twice ({table[kind].__name__} and {cls.__name__})")
        cls.kind = kind  # type: ignore[attr-defined]
        table[kind] = cls
        return cls

    return decorator


def register_scene(kind: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make a :class:`~sensing.scenes.base.Scene` available as ``source.kind``."""
    return _register(SCENES, kind)


def register_detector(kind: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make a :class:`~detectors.base.Detector` available as ``detectors[].kind``."""
    return _register(DETECTORS, kind)


def register_analysis(kind: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make an :class:`~sensing.analyzers.base.Analysis` available as ``analysis.kind``."""
    return _register(ANALYSES, kind)


def load_plugins() -> None:
    """Import the built-in scenes, detectors and analyses so that they register themselves."""
    import sensing.analyzers.parameter_estimation  # noqa: F401
    import detectors.counting  # noqa: F401
    import detectors.mode_sorting  # noqa: F401
    import sensing.scenes.two_point  # noqa: F401
    import sensing.scenes.displacement  # noqa: F401
    import detectors.quadrature  # noqa: F401
    import detectors.memory  # noqa: F401
    import sensing.analyzers.channel_learning  # noqa: F401
