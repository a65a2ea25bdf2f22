"""MLflow tracking set-up shared by the pipeline and the standalone train/eval steps.

MLFLOW_TRACKING_URI wins (a tracking server, or Azure ML's, which sets it in its jobs); when it is
unset, a SQLite store under the step's output directory is used, so nothing needs a server.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

DEFAULT_EXPERIMENT = "diabetes"


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME", "").strip() or DEFAULT_EXPERIMENT


def redact(uri: str) -> str:
    """Drop any user:password@ part of a URI before printing it."""
    parts = urlsplit(uri)
    if parts.username or parts.password:
        return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
    return uri


def configure_tracking(out_dir: Path) -> str:
    """Point MLflow at MLFLOW_TRACKING_URI, or at a SQLite store under out_dir when it is unset."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri:
        uri = "sqlite:///" + str((out_dir / "mlflow.db").resolve())
    mlflow.set_tracking_uri(uri)
    return uri


def local_artifact_location(uri: str) -> Optional[str]:
    """Where a new experiment's artifacts go when the store is a local database.

    MLflow would otherwise use ./mlruns of the current directory. Servers (http/https) choose for
    themselves (mlflow server --artifacts-destination); file: stores keep artifacts inside the store.
    """
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///"):]).resolve().parent / "mlartifacts").as_uri()
    return None


def keeps_model_in_run(uri: Optional[str] = None) -> bool:
    """Whether the model directory is also logged as run artifacts.

    Not on Azure ML (an azureml:// tracking URI): there the model stays in the job's output folder, which the
    release driver reads model.pkl from and registers the model from (azureml://jobs/<job>/outputs/training/
    paths/model); a second copy through the azureml-mlflow artifact repository would be an upload nobody reads.
    """
    import mlflow

    return not (uri or mlflow.get_tracking_uri()).startswith("azureml:")


def ensure_experiment(name: str, uri: str) -> str:
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(name, artifact_location=local_artifact_location(uri))


def start_run(out_dir: "str | Path"):
    """configure_tracking + ensure_experiment + mlflow.start_run (a context manager)."""
    import mlflow

    uri = configure_tracking(Path(out_dir).resolve())
    return mlflow.start_run(experiment_id=ensure_experiment(experiment_name(), uri))
