"""Train step: StandardScaler + Ridge on the train split, saved as an MLflow model directory.

Usage (standalone, also an Azure ML pipeline step):
    python ml/train.py --train <split>/train.csv --out <dir> [--alpha 1.0]

Writes <out>/model/ (MLflow sklearn flavour, pickle serialization). The model digest is the
sha256 of <out>/model/model.pkl. Standalone, it also opens an MLflow run, logs the params and
logs the model directory as run artifacts under "model".
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence

import mlflow
import mlflow.sklearn
import numpy as np
import sklearn
from mlflow.models import infer_signature
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import extract
import tracking

DEFAULT_ALPHA = 1.0
MODEL_SUBDIR = "model"
ARTIFACT_PATH = "model"
MODEL_FILE = "model.pkl"


@dataclass(frozen=True)
class TrainResult:
    model_dir: str
    model_sha256: str
    params: Dict[str, object] = field(default_factory=dict)


def build_model(alpha: float) -> Pipeline:
    return Pipeline([("scaler", StandardScaler()), ("ridge", Ridge(alpha=alpha))])


def load_xy(csv_path: "str | Path", min_rows: int = 1):
    data = extract.read_dataset(csv_path, min_rows=min_rows)
    return data[:, :-1], data[:, -1]


def train(train_csv: "str | Path", out_dir: "str | Path", alpha: float = DEFAULT_ALPHA) -> TrainResult:
    """Fit on train_csv and save an MLflow model to <out_dir>/model (replaced if present)."""
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    x, y = load_xy(train_csv)
    model = build_model(alpha)
    model.fit(x, y)

    model_dir = Path(out_dir).resolve() / MODEL_SUBDIR
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    signature = infer_signature(x[:5], model.predict(x[:5]))
    # Explicit requirements: skips MLflow's slow requirement inference (it imports the model in a subprocess).
    requirements = [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"]
    mlflow.sklearn.save_model(
        model,
        str(model_dir),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        signature=signature,
        pip_requirements=requirements,
    )
    params = {
        "model": "StandardScaler+Ridge",
        "alpha": alpha,
        "n_train": int(x.shape[0]),
        "n_features": int(x.shape[1]),
        "features": ",".join(extract.FEATURES),
        "sklearn_version": sklearn.__version__,
    }
    return TrainResult(str(model_dir), extract.file_sha256(model_dir / MODEL_FILE), params)


def log_training(result: TrainResult) -> Optional[str]:
    """Log params, the model_sha256 tag and the model directory to the active MLflow run (runs:/<id>/model is
    loadable); returns the artifact path, or None on Azure ML, where the model stays in the job's output folder
    (see tracking.keeps_model_in_run)."""
    mlflow.log_params(result.params)
    mlflow.set_tag("model_sha256", result.model_sha256)
    if not tracking.keeps_model_in_run():
        return None
    mlflow.log_artifacts(result.model_dir, ARTIFACT_PATH)
    return ARTIFACT_PATH


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train StandardScaler+Ridge and save an MLflow model.")
    parser.add_argument("--train", required=True, help="train split CSV written by extract.py")
    parser.add_argument("--out", required=True, help="output directory; the model goes to <out>/model")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="Ridge regularization strength")
    parser.add_argument("--no-mlflow", action="store_true", help="only fit and save, log nothing")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = train(args.train, args.out, args.alpha)
        if not args.no_mlflow:
            with tracking.start_run(args.out):
                log_training(result)
    except extract.DataValidationError as ex:
        print(str(ex), file=sys.stderr)
        return extract.EXIT_DATA_ERROR
    print(f"train: model {result.model_dir} sha256 {result.model_sha256}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
