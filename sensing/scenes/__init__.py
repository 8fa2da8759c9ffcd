"""Scenes: what the sky (or the probed channel) sends, one copy at a time.

The Scene contract is :class:`sensing.contracts.scene.Scene`; each module here is one plugin.
"""
