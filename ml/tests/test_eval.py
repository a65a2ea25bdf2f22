import json

import numpy as np

import eval as evaluate_step


def test_metrics_have_the_three_keys_and_are_written(trained, split_dir, tmp_path):
    metrics = evaluate_step.evaluate(trained.model_dir, split_dir / "test.csv", tmp_path)
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics


def test_metrics_are_plausible_on_the_real_data(trained, split_dir, tmp_path):
    metrics = evaluate_step.evaluate(trained.model_dir, split_dir / "test.csv", tmp_path)
    # Linear models on this data set reach r2 of roughly 0.35-0.55 depending on the split.
    assert 0.25 < metrics["r2"] < 0.7
    assert 40 < metrics["rmse"] < 75
    assert 30 < metrics["mae"] < metrics["rmse"]


def test_compute_metrics_of_a_perfect_prediction():
    y = np.array([1.0, 2.0, 3.0])
    assert evaluate_step.compute_metrics(y, y) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}


def test_script_without_mlflow_exits_0(trained, split_dir, tmp_path):
    args = ["--model", trained.model_dir, "--test", str(split_dir / "test.csv"), "--out", str(tmp_path), "--no-mlflow"]
    assert evaluate_step.main(args) == 0
    assert (tmp_path / "metrics.json").exists()
