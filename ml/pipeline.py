"""Run extract -> train -> eval in one MLflow run and write <out>/run.json.

Usage (the release driver calls exactly this):
    python ml/pipeline.py --data ml/data.txt --out <dir> [--alpha A]

Environment:
    MLFLOW_TRACKING_URI     tracking server or store; unset -> sqlite:///<out>/mlflow.db with
                            artifacts under <out>/mlartifacts (no server needed); an azureml:// URI (an
                            Azure ML job) needs azureml-mlflow (ml/azure-training-conda.yml) and
                            keeps the model in <out> only, not in run artifacts
    MLFLOW_EXPERIMENT_NAME  experiment name, default "diabetes"

Exit codes: 0 success; 2 invalid data (one line on stderr naming file, line, column);
1 any other failure (one line on stderr). Progress goes to stderr, run.json's content to stdout.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import extract
import tracking

RUN_FILE = "run.json"
EXIT_OK, EXIT_FAILURE = 0, 1


class Progress:
    """One line per step on stderr, with the elapsed time since the pipeline started."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, step: str, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {step}: {message}", file=sys.stderr, flush=True)


def _quiet_libraries() -> None:
    # MLflow, alembic and friends log INFO lines and warnings to stderr; keep stderr to our progress lines.
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")


def run_pipeline(data: str, out: str, alpha: float, test_fraction: float = extract.DEFAULT_TEST_FRACTION,
                 seed: int = extract.DEFAULT_SEED, progress: Optional[Progress] = None) -> Dict[str, Any]:
    progress = progress or Progress()
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    progress("extract", f"validating {data}")
    split = extract.extract(data, out_dir / "split", test_fraction, seed)
    progress("extract", f"{split.n_train} train rows, {split.n_test} test rows")

    import mlflow  # after extract: invalid data fails fast without loading MLflow

    import eval as evaluate_step
    import train as train_step

    _quiet_libraries()  # after the import: MLflow configures its loggers when it loads

    uri = tracking.configure_tracking(out_dir)
    experiment_name = tracking.experiment_name()
    progress("tracking", f"{tracking.redact(uri)} experiment '{experiment_name}'")
    experiment_id = tracking.ensure_experiment(experiment_name, uri)

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({"data_sha256": split.data_sha256, "test_fraction": test_fraction,
                           "seed": seed, "n_test": split.n_test})
        progress("train", f"fitting StandardScaler+Ridge alpha={alpha}")
        trained = train_step.train(split.train_path, out_dir, alpha)
        artifact_path = train_step.log_training(trained)
        progress("train", f"model.pkl sha256 {trained.model_sha256[:12]}, logged to run {run.info.run_id}")

        progress("eval", "scoring the held-out split")
        metrics = evaluate_step.evaluate(trained.model_dir, split.test_path, out_dir)
        evaluate_step.log_evaluation(metrics)
        progress("eval", " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))

        params: Dict[str, Any] = dict(trained.params)
        params.update({"data_sha256": split.data_sha256, "test_fraction": test_fraction,
                       "seed": seed, "n_test": split.n_test})
        result = {
            "run_id": run.info.run_id,
            "experiment_id": experiment_id,
            "metrics": metrics,
            "model_dir": trained.model_dir,
            "model_sha256": trained.model_sha256,
            "artifact_path": artifact_path,
            "params": params,
        }
    tmp = out_dir / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / RUN_FILE)
    progress("done", f"wrote {out_dir / RUN_FILE}")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="extract -> train -> eval in one MLflow run; writes run.json")
    parser.add_argument("--data", required=True, help="raw data file, e.g. ml/data.txt")
    parser.add_argument("--out", required=True, help="output directory (split/, model/, metrics.json, run.json)")
    parser.add_argument("--alpha", type=float, default=1.0, help="Ridge regularization strength (default 1.0)")
    parser.add_argument("--test-fraction", type=float, default=extract.DEFAULT_TEST_FRACTION)
    parser.add_argument("--seed", type=int, default=extract.DEFAULT_SEED)
    return parser


def _one_line(ex: BaseException) -> str:
    text = " ".join(str(ex).split()) or "(no message)"
    return f"{type(ex).__name__}: {text[:500]}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    # MLflow prints "View run ... at: <url>" to stdout after a run on a tracking server; stdout is
    # for run.json only, so silence that and send anything else a library prints to stderr.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = run_pipeline(args.data, args.out, args.alpha, args.test_fraction, args.seed)
    except extract.DataValidationError as ex:
        print(str(ex), file=sys.stderr)
        return extract.EXIT_DATA_ERROR
    except Exception as ex:  # the CLI edge: any other failure is one line and exit 1
        print(f"pipeline failed: {_one_line(ex)}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(result))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
