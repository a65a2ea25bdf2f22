import pickle

import numpy as np
import pytest

import extract
import train


def test_train_saves_an_mlflow_model_dir_with_a_pickle(trained):
    model_dir = trained.model_dir
    from pathlib import Path

    files = {p.name for p in Path(model_dir).iterdir()}
    assert {"MLmodel", "model.pkl", "requirements.txt"} <= files
    assert "serialization_format: pickle" in (Path(model_dir) / "MLmodel").read_text()
    assert trained.model_sha256 == extract.file_sha256(Path(model_dir) / "model.pkl")
    assert trained.params["alpha"] == 1.0 and trained.params["n_train"] == 354


def test_saved_model_loads_with_pickle_and_with_mlflow(trained, split_dir):
    import mlflow.pyfunc

    x, _ = train.load_xy(split_dir / "test.csv")
    with open(f"{trained.model_dir}/model.pkl", "rb") as handle:
        by_pickle = pickle.load(handle).predict(x)
    by_mlflow = mlflow.pyfunc.load_model(trained.model_dir).predict(x)
    assert np.allclose(by_pickle, by_mlflow)


def test_training_twice_gives_the_same_model_bytes(trained, split_dir, tmp_path):
    again = train.train(split_dir / "train.csv", tmp_path, alpha=1.0)
    assert again.model_sha256 == trained.model_sha256


def test_a_different_alpha_gives_a_different_model(trained, split_dir, tmp_path):
    other = train.train(split_dir / "train.csv", tmp_path, alpha=10.0)
    assert other.model_sha256 != trained.model_sha256


def test_retraining_into_the_same_dir_replaces_the_model(split_dir, tmp_path):
    first = train.train(split_dir / "train.csv", tmp_path, alpha=1.0)
    second = train.train(split_dir / "train.csv", tmp_path, alpha=1.0)
    assert first.model_sha256 == second.model_sha256


def test_non_positive_alpha_is_rejected(split_dir, tmp_path):
    with pytest.raises(ValueError, match="alpha"):
        train.train(split_dir / "train.csv", tmp_path, alpha=0)


def test_script_without_mlflow_exits_0(split_dir, tmp_path):
    assert train.main(["--train", str(split_dir / "train.csv"), "--out", str(tmp_path), "--no-mlflow"]) == 0
    assert (tmp_path / "model" / "model.pkl").exists()
