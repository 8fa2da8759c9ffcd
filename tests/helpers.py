"""Builders shared by the tests: scenes and detectors from settings keywords."""

from sensing.study.registry import DETECTORS, SCENES, load_plugins

load_plugins()


def make_scene(**settings):
    settings.setdefault("kind", "two_point")
    cls = SCENES[settings["kind"]]
    return cls(cls.Settings(**settings))


def make_detector(**settings):
    cls = DETECTORS[settings["kind"]]
    settings.setdefault("name", settings["kind"])
    return cls(cls.Settings(**settings))
