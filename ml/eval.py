"""Eval step: rmse, mae and r2 of a saved model on the held-out split.

Usage (standalone, also an Azure ML pipeline step):
    python ml/eval.py --model <dir>/model --test <split>/test.csv --out <dir>

Writes <out>/metrics.json {"rmse": .., "mae": .., "r2": ..}. The model is loaded from model.pkl
with pickle, the same way score.py loads it in the inference server.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import extract

METRICS_FILE = "metrics.json"


def load_model(model_dir: "str | Path"):
    with open(Path(model_dir) / "model.pkl", "rb") as handle:
        return pickle.load(handle)


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> Dict[str, float]:
    return {
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }


def evaluate(model_dir: "str | Path", test_csv: "str | Path", out_dir: "str | Path") -> Dict[str, float]:
    data = extract.read_dataset(test_csv, min_rows=2)
    x, y = data[:, :-1], data[:, -1]
    metrics = compute_metrics(y, load_model(model_dir).predict(x))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def log_evaluation(metrics: Dict[str, float]) -> None:
    import mlflow  # imported here so evaluation itself does not pay for it

    mlflow.log_metrics(metrics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Evaluate a saved model on the test split.")
    parser.add_argument("--model", required=True, help="MLflow model directory containing model.pkl")
    parser.add_argument("--test", required=True, help="test split CSV written by extract.py")
    parser.add_argument("--out", required=True, help="output directory for metrics.json")
    parser.add_argument("--no-mlflow", action="store_true", help="only compute and write, log nothing")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        metrics = evaluate(args.model, args.test, args.out)
    except extract.DataValidationError as ex:
        print(str(ex), file=sys.stderr)
        return extract.EXIT_DATA_ERROR
    if not args.no_mlflow:
        import tracking

        with tracking.start_run(args.out):
            log_evaluation(metrics)
    print("eval: " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
