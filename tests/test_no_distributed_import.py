"""A synchronous run on the embedded default never imports ``distributed`` (half a second of
every run's fixed cost: dask and xarray import it only to ask whether a cluster client exists),
and results written that way are the same NetCDF file as with ``distributed`` loaded."""

import subprocess
import sys
import textwrap
from pathlib import Path

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


def test_synchronous_run_does_not_import_distributed(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import sensing.cli
        sys.argv = ["sensing", "run", {str(ROOT / "configs" / "superresolution.yaml")!r}, "--set", "sweep={{}}",
                    "--set", "copies=[1000]", "--set", "repetitions=2", "--out", {str(tmp_path / "a")!r},
                    "--scheduler", "synchronous", "--quiet", "--no-plots"]
        try:
            sensing.cli.main()
        except SystemExit as stop:
            assert not stop.code, stop.code
        print("distributed" in sys.modules, "dask.distributed" in sys.modules)
        import distributed  # still importable afterwards
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False"]
    with xr.open_dataset(tmp_path / "a" / "results.nc", engine="h5netcdf") as ds:
        assert ds["estimate"].shape[-1] == 1 and ds.sizes["repetition"] == 2


def test_encode_round_trips_with_distributed_loaded():
    """With ``distributed`` already imported (a cluster run), nothing is blocked: the bytes
    decode to the same dataset and the module stays usable."""
    import io

    import distributed  # noqa: F401

    from sensing import results

    ds = xr.Dataset({"x": ("a", [1.0, 2.0])}, attrs={"created": "fixed"})
    with xr.open_dataset(io.BytesIO(results.encode(ds)), engine="h5netcdf") as back:
        xr.testing.assert_identical(back.load(), ds)
    assert sys.modules["distributed"] is not None and sys.modules.get("dask.distributed", 0) is not None
