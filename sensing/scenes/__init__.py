"""Scenes: what the sky (or the probed channel) sends, one copy at a time."""

from sensing.scenes.base import Parameter, Scene

__all__ = ["Parameter", "Scene"]
