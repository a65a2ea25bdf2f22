"""Puts ml/ on sys.path (the scripts are flat modules, as Azure ML runs them) and shares one trained model."""
import sys
from pathlib import Path

import pytest

ML_DIR = Path(__file__).resolve().parents[1]
if str(ML_DIR) not in sys.path:
    sys.path.insert(0, str(ML_DIR))

DATA = ML_DIR / "data.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def data_path() -> Path:
    return DATA


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def split_dir(tmp_path_factory) -> Path:
    import extract

    out = tmp_path_factory.mktemp("split")
    extract.extract(DATA, out)
    return out


@pytest.fixture(scope="session")
def trained(split_dir, tmp_path_factory):
    """One model trained once per session (train() only; nothing is logged to MLflow)."""
    import train

    return train.train(split_dir / "train.csv", tmp_path_factory.mktemp("trained"), alpha=1.0)


@pytest.fixture(autouse=True)
def _no_tracking_env(monkeypatch):
    # Unit tests never talk to a tracking server that happens to be configured in the shell.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
