"""Detectors: per-copy measurements and quantum-memory collective measurements.

Each module is one family; every detector registers under the name configs use
(:func:`sensing.study.registry.register_detector`) and follows :mod:`sensing.contracts.detector`.
"""
