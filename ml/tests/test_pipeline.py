import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import extract
import pipeline

ML_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, data_path):
    """One real pipeline run with no MLFLOW_TRACKING_URI: a SQLite store under <out>."""
    out = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
            mp.delenv(name, raising=False)
        code = pipeline.main(["--data", str(data_path), "--out", str(out), "--alpha", "1.0"])
    assert code == 0
    return out, json.loads((out / "run.json").read_text())


def test_run_json_follows_the_contract(e2e):
    out, run = e2e
    assert set(run) == {"run_id", "experiment_id", "metrics", "model_dir", "model_sha256", "artifact_path", "params"}
    assert set(run["metrics"]) == {"rmse", "mae", "r2"}
    assert run["model_dir"] == str((out / "model").resolve()) and os.path.isabs(run["model_dir"])
    assert run["model_sha256"] == extract.file_sha256(out / "model" / "model.pkl")
    assert run["artifact_path"] == "model"
    assert run["params"]["alpha"] == 1.0 and run["params"]["seed"] == 42
    assert json.loads((out / "metrics.json").read_text()) == run["metrics"]


def test_the_local_store_lives_under_out_and_holds_the_run(e2e):
    import mlflow

    out, run = e2e
    assert (out / "mlflow.db").exists()
    mlflow.set_tracking_uri("sqlite:///" + str(out / "mlflow.db"))
    logged = mlflow.get_run(run["run_id"])
    assert logged.info.status == "FINISHED"
    assert mlflow.get_experiment(run["experiment_id"]).name == "diabetes"
    assert logged.data.params["alpha"] == "1.0"
    assert logged.data.metrics["r2"] == pytest.approx(run["metrics"]["r2"])
    assert logged.info.artifact_uri.startswith((out / "mlartifacts").as_uri())


def test_runs_uri_is_a_loadable_model_with_the_same_digest(e2e):
    import mlflow
    import mlflow.pyfunc

    out, run = e2e
    mlflow.set_tracking_uri("sqlite:///" + str(out / "mlflow.db"))
    uri = f"runs:/{run['run_id']}/{run['artifact_path']}"
    local = mlflow.artifacts.download_artifacts(uri, dst_path=str(out / "downloaded"))
    assert extract.file_sha256(Path(local) / "model.pkl") == run["model_sha256"]
    x = np.array([[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]], dtype=np.float64)
    assert len(mlflow.pyfunc.load_model(uri).predict(x)) == 1


def test_a_second_run_reuses_the_store_and_gives_the_same_model(e2e, monkeypatch, data_path, tmp_path, capsys):
    out, first = e2e
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(out / "mlflow.db"))
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "other-experiment")
    assert pipeline.main(["--data", str(data_path), "--out", str(tmp_path)]) == 0
    second = json.loads((tmp_path / "run.json").read_text())
    assert second["model_sha256"] == first["model_sha256"]
    assert second["run_id"] != first["run_id"]
    assert second["experiment_id"] != first["experiment_id"]
    # A new experiment in a SQLite store keeps its artifacts beside the database, not in ./mlruns.
    import mlflow

    artifact_uri = mlflow.get_run(second["run_id"]).info.artifact_uri
    assert artifact_uri.startswith((out / "mlartifacts").as_uri())
    assert not (Path.cwd() / "mlruns").exists()
    captured = capsys.readouterr()
    assert json.loads(captured.out) == second  # stdout holds run.json's content and nothing else
    err = captured.err.strip().splitlines()
    assert [line.split("] ")[1].split(":")[0] for line in err] == [
        "extract", "extract", "tracking", "train", "train", "eval", "eval", "done"]


def test_any_other_failure_is_one_line_and_exit_1(e2e, monkeypatch, data_path, tmp_path, capsys):
    out, _ = e2e
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(out / "mlflow.db"))
    assert pipeline.main(["--data", str(data_path), "--out", str(tmp_path), "--alpha", "-1"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("pipeline failed: ValueError: alpha must be > 0")


def test_bad_data_exits_2_with_one_line_and_no_run(fixtures, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run(
        [sys.executable, str(ML_DIR / "pipeline.py"), "--data", str(fixtures / "non_numeric.txt"), "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]
    assert lines == [f"{fixtures / 'non_numeric.txt'} line 17, column 'bmi': 'abc' is not a number"]
    assert proc.stdout == ""
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "run.json").exists()
