"""Builders shared by the tests (the public ones of :mod:`sensing.testing`)."""

from sensing.testing import build_detector as make_detector
from sensing.testing import build_scene as make_scene

__all__ = ["make_detector", "make_scene"]
