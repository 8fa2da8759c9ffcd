"""The Strawberry Fields shim: SF 0.23 imports scipy.integrate.simps, which SciPy 1.14 removed."""

import importlib

import scipy.integrate


def test_shim_provides_simps_alias_and_sf_imports():
    import sensing.sf_compat as compat

    importlib.reload(compat)
    assert scipy.integrate.simps is getattr(scipy.integrate, "simps")
    if hasattr(scipy.integrate, "simpson"):
        import numpy as np

        x = np.linspace(0, 1, 11)
        assert abs(scipy.integrate.simps(x**2, x=x) - 1 / 3) < 1e-12
    sf = compat.import_strawberryfields()
    assert sf.hbar == 2
    assert sf.__version__.startswith("0.23")


def test_sf_vacuum_and_displacement_conventions():
    """PHYSICS.md section 0: vacuum covariance = I (hbar = 2); Dgate(0.3) gives <x> = 0.6."""
    import numpy as np

    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    prog = sf.Program(1)
    with prog.context as q:
        sf.ops.Dgate(0.3) | q[0]
    state = sf.Engine("gaussian").run(prog).state
    np.testing.assert_allclose(state.cov(), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(state.means(), [0.6, 0.0], atol=1e-12)
