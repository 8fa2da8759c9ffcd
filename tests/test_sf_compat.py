"""The Strawberry Fields shim: SF 0.23 imports scipy.integrate.simps, which SciPy 1.14 removed.

The import-order checks run in a fresh interpreter, since within the test session SF and the
shim are long imported (and the shim's alias, once set, cannot be observed being set).
"""

import subprocess
import sys
import textwrap

import numpy as np


def run_fresh(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter (no module imported yet) and return the finished process."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_shim_is_needed_on_this_scipy():
    """Without the shim, importing SF 0.23 on SciPy >= 1.14 fails on ``from scipy.integrate import simps``."""
    probe = run_fresh("import scipy.integrate; print(hasattr(scipy.integrate, 'simps'))")
    # pyproject requires SciPy >= 1.14, which removed simps: the shim must be what makes SF import
    assert probe.stdout.strip() == "False", "this SciPy still ships simps: the shim is not exercised here"
    bare = run_fresh("import strawberryfields")
    assert bare.returncode != 0
    assert "simps" in bare.stderr


def test_importing_sensing_or_the_shim_module_does_not_import_scipy_integrate():
    """The shim is applied lazily: ``import sensing`` and ``import sensing.sf_compat`` leave
    ``scipy.integrate`` (0.3-0.9 s) and SF unimported and ``simps`` not yet aliased."""
    result = run_fresh(
        """
        import sys
        import sensing, sensing.sf_compat
        print("scipy.integrate" in sys.modules, "strawberryfields" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_the_shim_installs_a_working_simps_before_sf_is_imported():
    """``install_simps_alias()`` (what ``import_strawberryfields`` runs first; SF not yet imported)
    provides ``scipy.integrate.simps``, equal to ``simpson``: on int_0^pi sin x dx = 2 with 11
    points both give the same composite Simpson value, which differs from 2 by the rule's error
    (~1.1e-4), so equality is not trivial."""
    result = run_fresh(
        """
        import sys
        import numpy as np
        from sensing.sf_compat import install_simps_alias
        install_simps_alias()
        install_simps_alias()  # idempotent
        import scipy.integrate
        assert "strawberryfields" not in sys.modules
        x = np.linspace(0.0, np.pi, 11)
        print(scipy.integrate.simps(np.sin(x), x=x), scipy.integrate.simpson(np.sin(x), x=x))
        """
    )
    assert result.returncode == 0, result.stderr
    shimmed, simpson = map(float, result.stdout.split())
    assert shimmed == simpson
    h = np.pi / 10  # composite Simpson error: (b - a) h^4 max|f''''| / 180 = pi h^4 / 180
    assert 0 < shimmed - 2.0 < np.pi * h**4 / 180


def test_sf_imported_through_the_shim_integrates_wigner_marginals():
    """SF imported through ``import_strawberryfields`` in a fresh interpreter (the one place the shim
    is applied, so the import order a run sees): version 0.23, hbar = 2,
    and ``x_quad_values`` (SF's own use of ``simps``) gives the x marginal of the coherent state
    Dgate(0.3): a Gaussian of mean 0.6 and variance hbar/2 = 1 (PHYSICS.md section 0)."""
    result = run_fresh(
        """
        import numpy as np
        from sensing.sf_compat import import_strawberryfields
        sf = import_strawberryfields()
        prog = sf.Program(1)
        with prog.context as q:
            sf.ops.Dgate(0.3) | q[0]
        state = sf.Engine("gaussian").run(prog).state
        grid = np.linspace(-8.0, 8.0, 401)
        marginal = state.x_quad_values(0, grid, grid)
        print(sf.__version__, sf.hbar)
        print(" ".join(map(repr, marginal.tolist())))
        """
    )
    assert result.returncode == 0, result.stderr
    header, values = result.stdout.strip().splitlines()[-2:]
    version, hbar = header.split()
    assert version.startswith("0.23") and float(hbar) == 2
    grid = np.linspace(-8.0, 8.0, 401)
    marginal = np.array(values.split(), dtype=float)
    expected = np.exp(-((grid - 0.6) ** 2) / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(marginal, expected, atol=1e-6)  # Simpson on a 0.04 grid: error ~1e-8


def test_sf_vacuum_and_displacement_conventions():
    """PHYSICS.md section 0: vacuum covariance = I (hbar = 2); Dgate(0.3) gives <x> = 0.6."""
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    prog = sf.Program(1)
    with prog.context as q:
        sf.ops.Dgate(0.3) | q[0]
    state = sf.Engine("gaussian").run(prog).state
    np.testing.assert_allclose(state.cov(), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(state.means(), [0.6, 0.0], atol=1e-12)
