"""Analyzers: what the exact outcome models and the reduced statistics say about the parameters."""
