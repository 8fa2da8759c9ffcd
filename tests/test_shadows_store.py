"""Measure first, ask later: snapshots.nc written by `sensing run`, `sensing predict` and
`sensing.predict` reproduce the run's numbers exactly, answer new questions, refuse corrupted or
truncated stores and bad observables (exit 2)."""

import numpy as np
import pytest
import xarray as xr

import sensing
from sensing.cli import main
from sensing.snapshots import SnapshotStoreError, read_groups

QUBIT = {"name": "q", "seed": 5, "copies": [500, 2000], "repetitions": 2,
         "source": {"kind": "qubit_state", "state": "ghz", "qubits": 5, "transmissivity": 0.9, "depolarizing": 0.02},
         "detectors": [{"kind": "pauli_shadow", "name": "pauli", "efficiency": 0.95}],
         "analysis": {"kind": "shadow_prediction", "observables": ["ZZIII", {"name": "energy", "builtin": "ising_energy", "field": 0.5}],
                      "random_paulis": {"count": 12, "max_weight": 3}, "fidelity": True, "renyi2_subsystems": [[0, 1]]}}
CV = {"name": "c", "seed": 6, "copies": [500, 1500], "repetitions": 2,
      "source": {"kind": "cv_state", "state": "cat", "alpha": [1.0, 0.0], "transmissivity": 0.9, "cutoff": 12},
      "detectors": [{"kind": "random_phase_homodyne", "name": "hom", "efficiency": 0.9},
                    {"kind": "heterodyne_shadow", "name": "het", "efficiency": 0.9}],
      "analysis": {"kind": "shadow_prediction", "density_elements": [[0, 0], [2, 0]], "fidelity": True, "mean_photon_number": True,
                   "quadrature_moments": [[2, 0.0]]},
      "sweep": {"source.transmissivity": [0.8, 1.0]}}
VARIABLES = ["prediction", "mean_prediction", "standard_error", "snapshots_used", "true_value", "mse", "max_error", "error_bound"]


def write_config(tmp_path, config, name):
    import yaml

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def qubit_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qrun")
    assert main(["run", str(write_config(tmp, QUBIT, "q")), "--out", str(tmp / "out"), "--scheduler", "synchronous", "--quiet", "--no-plots"]) == 0
    return tmp / "out"


def test_predict_reproduces_the_run_exactly(qubit_run, tmp_path):
    ran = xr.open_dataset(qubit_run / "results.nc")
    again = sensing.predict(qubit_run, out=tmp_path)
    for name in VARIABLES:
        np.testing.assert_array_equal(again[name].values, ran[name].values, err_msg=name)
    assert list(again["observable"].values) == list(ran["observable"].values)
    assert (tmp_path / "predictions.nc").exists()


def test_predict_reproduces_a_cv_sweep_exactly(tmp_path):
    assert main(["run", str(write_config(tmp_path, CV, "c")), "--out", str(tmp_path / "out"), "--scheduler", "synchronous",
                 "--quiet", "--no-plots"]) == 0
    ran = xr.open_dataset(tmp_path / "out" / "results.nc")
    again = sensing.predict(tmp_path / "out", write=False)
    assert again["prediction"].dims[0] == "transmissivity"
    for name in ["prediction", "mean_prediction", "standard_error", "true_value", "mse"]:
        np.testing.assert_array_equal(again[name].values, ran[name].values, err_msg=name)


def test_new_questions_from_saved_snapshots_match_direct_estimates(qubit_run, tmp_path):
    """New Pauli strings asked later equal the estimator applied to the stored snapshots, and are
    unbiased for the GHZ values (Z0Z4 = (1-4p/3)^2, X^5 = (1-4p/3)^5, Y0Z1 = 0)."""
    from sensing.physics import shadows as sh

    obs = tmp_path / "obs.yaml"
    obs.write_text("observables: ['Y0 Z1']\nfidelity: false\n")
    ds = sensing.predict(qubit_run, ["ZIIIZ", "XXXXX"], obs, out=tmp_path)
    assert list(ds["observable"].values) == ["ZIIIZ", "XXXXX", "Y0 Z1"]
    group = read_groups(qubit_run / "snapshots.nc")["point0/pauli"]
    n = 5
    snaps = sh.PauliSnapshots(group["arrays"]["bases"], np.unpackbits(group["arrays"]["bits"], axis=1, count=n, bitorder="little"),
                              np.unpackbits(group["arrays"]["erased"], axis=1, count=n, bitorder="little").astype(bool))
    direct = sh.estimate_observables(snaps, ["ZIIIZ", "XXXXX", "YZIII"], batches=ds.attrs["median_of_means_batches"])
    np.testing.assert_array_equal(ds["mean_prediction"].isel(detector=0, copies=-1).values, direct.mean)
    f = 1 - 4 * 0.02 / 3
    np.testing.assert_allclose(ds["true_value"].values, [f**2, f**5, 0.0], atol=1e-12)
    z = np.abs(direct.mean - ds["true_value"].values) / direct.standard_error
    assert np.all(z < 4.5), z


def test_snapshot_store_format(qubit_run):
    group = read_groups(qubit_run / "snapshots.nc")["point0/pauli"]
    a = group["arrays"]
    assert a["bases"].dtype == np.uint8 and a["bases"].shape == (2000, 5) and a["bases"].max() <= 2
    assert a["bits"].dtype == np.uint8 and a["bits"].shape == (2000, 1)  # 5 outcome bits packed in one byte
    assert group["attrs"]["protocol"] == "pauli" and group["attrs"]["copies"] == [500, 2000]
    with xr.open_dataset(qubit_run / "snapshots.nc", group="point0/pauli", engine="h5netcdf") as ds:
        assert ds["bases"].encoding["chunksizes"] == (2000, 5) and ds["bases"].encoding["zlib"]
        assert len(ds.attrs["sha256"]) == 64


def corrupt(path, where):
    """Truncate the file, or flip 64 bytes inside the stored (compressed) chunk of the outcome bits."""
    import h5py

    data = bytearray(path.read_bytes())
    if where == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
        return
    with h5py.File(path, "r") as f:
        info = f["point0/pauli/bases"].id.get_chunk_info(0)
    start = info.byte_offset + info.size // 2
    for i in range(start, start + min(64, info.size // 2)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["truncate", "flip"])
def test_corrupted_or_truncated_store_is_refused(qubit_run, tmp_path, where, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(qubit_run, run)
    corrupt(run / "snapshots.nc", where)
    with pytest.raises(SnapshotStoreError, match="corrupted|truncated"):
        sensing.predict(run, write=False)
    assert main(["predict", str(run), "--quiet"]) == 2
    assert "snapshots.nc" in capsys.readouterr().err
    assert not (run / "predictions.nc").exists()


def test_flipped_data_bytes_fail_the_checksum(tmp_path):
    from sensing.snapshots import write_groups

    arrays = {"x": np.arange(1000, dtype=np.int64)}
    path = write_groups(tmp_path / "a.nc", {"g": {"arrays": arrays, "attrs": {"k": 1}}})
    assert read_groups(path)["g"]["attrs"] == {"k": 1}
    # same file, data changed behind the checksum's back (rewrite the variable in place)
    import h5py

    with h5py.File(path, "r+") as f:
        f["g/x"][10] = 12345
    with pytest.raises(SnapshotStoreError, match="checksum"):
        read_groups(path)


def test_cli_exit_codes(qubit_run, tmp_path, capsys):
    out = ["--out", str(tmp_path)]
    assert main(["predict", str(qubit_run), "--observable", "XQZII", *out, "--quiet"]) == 2
    assert "XQZII" in capsys.readouterr().err
    assert main(["predict", str(qubit_run), "--observable", "XZ", *out, "--quiet"]) == 2
    assert "XZ" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert main(["predict", str(qubit_run), "--observable", "X0 Z4", *out]) == 0
    assert "X0 Z4" in capsys.readouterr().out
    assert main(["predict", str(qubit_run), "--observable", "X0 Z4", *out, "--quiet"]) == 2  # exists
    assert main(["predict", str(qubit_run), "--observable", "Z0", *out, "--quiet", "--overwrite"]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("renyi2_subsystems: [[0, 0]]\n")
    assert main(["predict", str(qubit_run), "--observable-file", str(bad), *out, "--quiet", "--overwrite"]) == 2
    assert "renyi2_subsystems" in capsys.readouterr().err


def test_bad_analysis_config_names_the_field(tmp_path, capsys):
    config = {**QUBIT, "analysis": {**QUBIT["analysis"], "observables": ["ZZ!II"]}}
    assert main(["validate", str(write_config(tmp_path, config, "bad"))]) == 2
    err = capsys.readouterr().err
    assert "analysis" in err and "ZZ!II" in err


def test_run_refuses_to_overwrite_snapshots(qubit_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(qubit_run, run)
    (run / "results.nc").unlink()
    config = write_config(tmp_path, QUBIT, "q")
    assert main(["run", str(config), "--out", str(run), "--scheduler", "synchronous", "--quiet", "--no-plots"]) == 2
    assert not (run / "results.nc").exists()
