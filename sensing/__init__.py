"""Quantum sensing pipelines: what a telescope gains from quantum memory and collective measurement.

``sensing.run(config)`` runs a configured study and returns an ``xarray.Dataset``;
``sensing`` on the command line does the same from a YAML file.
"""

# Strawberry Fields is imported only through sensing.sf_compat.import_strawberryfields(), which
# applies the SciPy shim first; nothing heavy is imported here.

__version__ = "0.1.0"


def run(config, overrides=None, client=None, **kwargs):
    """See :func:`sensing.api.run`."""
    from sensing.api import run as _run

    return _run(config, overrides, client, **kwargs)


def predict(run_dir, observables=None, request=None, **kwargs):
    """See :func:`sensing.api.predict`: new predictions from the snapshots a run kept."""
    from sensing.api import predict as _predict

    return _predict(run_dir, observables, request, **kwargs)


__all__ = ["run", "predict", "__version__"]
