"""Drift and serving statistics of one model version: what score.py collected against the training data.

    python ml/monitor.py --reference <csv> --collected <dir> [--collected <dir> ...] --model-dir <dir>
                         --model-version V --since <epoch seconds> --settings <json> --out <json>

Reads the JSON lines score.py's local sink wrote (ml/monitor_collected.py), keeps the records of model version V
since the given time, and compares them with the reference (the training data, a CSV with the feature header):
per-feature population stability index (PSI, scipy.stats.entropy in both directions) and two-sample
Kolmogorov-Smirnov test (scipy.stats.ks_2samp), the same for the predictions (the model's predictions on the
reference vs the collected ones), data quality (missing values and wrong types from the rejected requests,
values outside the training range), volume, error rate and latency (numpy percentiles of score.py's elapsed_ms).
Writes one JSON document (the verdict and every figure; the driver renders the report and picks the exit code).

Exit codes: 0 the JSON was written (whatever the verdict); 2 bad arguments or an unreadable reference.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

import monitor_collected  # noqa: E402
from score import FEATURES, find_model_file  # noqa: E402

PSI_BINS = 10
PLOT_BINS = 12
# PSI's usual floor for an empty bin, so log(0) never happens
PSI_EPSILON = 1e-4
REJECTED_MISSING = {"missing"}
REJECTED_TYPE = {"not_a_number", "row_length", "shape", "json", "encoding", "empty_body", "empty"}


def read_reference(path: str) -> np.ndarray:
    """The feature columns of the reference CSV (the training data: ml/data.txt or a training split)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        missing = [f for f in FEATURES if f not in header]
        if missing:
            raise ValueError(f"{path}: the header lacks {', '.join(missing)}")
        index = [header.index(f) for f in FEATURES]
        rows = [[float(row[i]) for i in index] for row in reader if row]
    if not rows:
        raise ValueError(f"{path}: no rows")
    return np.asarray(rows, dtype=float)


def bin_edges(reference: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """Edges at the reference's quantiles (equal-mass bins), open at both ends; a discrete feature gets fewer."""
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.concatenate(([-np.inf], inner, [np.inf]))


def shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values, bins=edges)
    return counts / max(1, counts.sum())


def psi(reference: np.ndarray, current: np.ndarray, edges: Optional[np.ndarray] = None) -> float:
    """Population stability index: sum((c - r) * ln(c / r)) over bins = KL(c||r) + KL(r||c)."""
    edges = bin_edges(reference) if edges is None else edges
    r = np.clip(shares(reference, edges), PSI_EPSILON, None)
    c = np.clip(shares(current, edges), PSI_EPSILON, None)
    return float(stats.entropy(c, r) + stats.entropy(r, c))


def compare(name: str, reference: np.ndarray, current: np.ndarray, thresholds: Dict[str, float]) -> Dict[str, Any]:
    edges = bin_edges(reference)
    ks = stats.ks_2samp(reference, current)
    value = psi(reference, current, edges)
    drifted = value >= thresholds["psi"] and float(ks.pvalue) < thresholds["ksPValue"]
    lo, hi = float(reference.min()), float(reference.max())
    out_of_range = int(np.count_nonzero((current < lo) | (current > hi)))
    plot_edges = np.linspace(min(lo, float(current.min())), max(hi, float(current.max())), PLOT_BINS + 1)
    return {
        "name": name,
        "psi": round(value, 6),
        "ks": {"statistic": round(float(ks.statistic), 6), "pvalue": float(ks.pvalue)},
        "drifted": bool(drifted),
        "reference": {"mean": float(reference.mean()), "std": float(reference.std()), "min": lo, "max": hi},
        "current": {"mean": float(current.mean()), "std": float(current.std()), "min": float(current.min()), "max": float(current.max())},
        "outOfRange": out_of_range,
        "histogram": {
            "edges": [round(float(e), 6) for e in plot_edges],
            "reference": shares(reference, plot_edges).round(6).tolist(),
            "current": shares(current, plot_edges).round(6).tolist(),
        },
    }


def windows(times: np.ndarray, rows: np.ndarray, reference: np.ndarray, count: int, min_rows: int) -> List[Dict[str, Any]]:
    """PSI per feature in `count` equal time slices of the collected rows (drift over time); thin slices are skipped."""
    if rows.shape[0] == 0:
        return []
    order = np.argsort(times, kind="stable")
    out = []
    for part in np.array_split(order, count):
        if part.size < min_rows:
            continue
        out.append({
            "from": int(times[part].min()),
            "to": int(times[part].max()),
            "rows": int(part.size),
            "psi": {f: round(psi(reference[:, j], rows[part, j]), 6) for j, f in enumerate(FEATURES)},
        })
    return out


def predict(model_dir: str, rows: np.ndarray) -> np.ndarray:
    with open(find_model_file(model_dir), "rb") as handle:
        model = pickle.load(handle)
    return np.asarray(model.predict(rows.tolist()), dtype=float)


def analyse(reference: np.ndarray, collected: "monitor_collected.Collected", model_dir: str, settings: Dict[str, Any]) -> Dict[str, Any]:
    thresholds = settings["thresholds"]
    rows = collected.inputs
    predictions = collected.outputs
    requests = collected.requests
    statuses = np.asarray([r["status"] for r in requests], dtype=float)
    reasons = [r.get("reason") for r in requests if r.get("status") != 200]
    latency = np.asarray([r["elapsed_ms"] for r in requests if r.get("status") == 200], dtype=float)
    served = int(np.count_nonzero(statuses == 200))
    result: Dict[str, Any] = {
        "counts": {
            "requests": len(requests),
            "rows": int(rows.shape[0]),
            "predictions": int(predictions.shape[0]),
            "referenceRows": int(reference.shape[0]),
            "files": collected.files,
            "badLines": collected.bad_lines,
            "otherVersions": collected.other_versions,
            "beforeWindow": collected.before_window,
            "skipped": collected.skipped,
        },
        "window": {"from": collected.first_time, "to": collected.last_time},
        "volume": {"requests": len(requests), "rows": int(rows.shape[0]), "perHour": None},
        "errors": {"served": served, "rejected": len(requests) - served,
                   "rate": round((len(requests) - served) / len(requests), 6) if requests else None},
        "latencyMs": ({k: round(float(np.percentile(latency, q)), 3) for k, q in (("p50", 50), ("p95", 95), ("p99", 99))}
                      if latency.size else None),
        "quality": {
            "missing": sum(1 for r in reasons if r in REJECTED_MISSING),
            "wrongType": sum(1 for r in reasons if r in REJECTED_TYPE),
            "otherRejected": sum(1 for r in reasons if r not in REJECTED_MISSING and r not in REJECTED_TYPE),
            "outOfRangeRows": 0,
            "outOfRangeRate": None,
        },
        "features": [],
        "prediction": None,
        "windows": [],
        "reasons": [],
        "alerts": [],
    }
    if collected.first_time is not None and collected.last_time is not None and collected.last_time > collected.first_time:
        result["volume"]["perHour"] = round(len(requests) / ((collected.last_time - collected.first_time) / 3600), 3)
    min_rows = int(settings["minSamples"])
    if rows.shape[0] < min_rows:
        result["verdict"] = "insufficient-data"
        result["reasons"].append(f"{rows.shape[0]} collected rows, at least {min_rows} needed for a verdict")
        return result

    lo, hi = reference.min(axis=0), reference.max(axis=0)
    outside = (rows < lo) | (rows > hi)
    result["quality"]["outOfRangeRows"] = int(np.count_nonzero(outside.any(axis=1)))
    result["quality"]["outOfRangeRate"] = round(result["quality"]["outOfRangeRows"] / rows.shape[0], 6)
    for j, name in enumerate(FEATURES):
        feature = compare(name, reference[:, j], rows[:, j], thresholds)
        result["features"].append(feature)
        if feature["drifted"]:
            result["reasons"].append(
                f"{name}: PSI {feature['psi']:.3f} >= {thresholds['psi']}, KS p={feature['ks']['pvalue']:.2g} < {thresholds['ksPValue']}"
                f" (mean {feature['reference']['mean']:.4g} -> {feature['current']['mean']:.4g})")
    if predictions.shape[0] >= min_rows:
        pred = compare("prediction", predict(model_dir, reference), predictions, {**thresholds, "psi": thresholds["predictionPsi"]})
        result["prediction"] = pred
        if pred["drifted"]:
            result["reasons"].append(f"prediction: PSI {pred['psi']:.3f} >= {thresholds['predictionPsi']}, KS p={pred['ks']['pvalue']:.2g}"
                                     f" (mean {pred['reference']['mean']:.4g} -> {pred['current']['mean']:.4g})")
    rate = result["quality"]["outOfRangeRate"]
    if rate is not None and rate > thresholds["outOfRangeRate"]:
        result["reasons"].append(f"out of the training range: {rate:.1%} of rows > {thresholds['outOfRangeRate']:.1%}")
    err = result["errors"]["rate"]
    if err is not None and err > thresholds["errorRate"]:
        result["alerts"].append(f"error rate {err:.1%} > {thresholds['errorRate']:.1%}")
    p99 = (result["latencyMs"] or {}).get("p99")
    if p99 is not None and thresholds.get("p99LatencyMs") and p99 > thresholds["p99LatencyMs"]:
        result["alerts"].append(f"p99 latency {p99:.1f} ms > {thresholds['p99LatencyMs']} ms")
    result["windows"] = windows(collected.input_times, rows, reference, int(settings["windows"]), max(20, min_rows // 4))
    result["verdict"] = "drift" if result["reasons"] else "no-drift"
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="drift and serving statistics of collected requests against the training data")
    p.add_argument("--reference", required=True)
    p.add_argument("--collected", action="append", default=[])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--model-version", required=True)
    p.add_argument("--since", type=float, default=0.0, help="epoch seconds; older records are left out")
    p.add_argument("--settings", required=True, help="JSON: thresholds, minSamples, windows")
    p.add_argument("--out", required=True)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = json.loads(args.settings)
        reference = read_reference(args.reference)
    except (OSError, ValueError) as ex:
        print(f"monitor: {ex}", file=sys.stderr)
        return 2
    collected = monitor_collected.read(args.collected, args.model_version, args.since)
    for warning in collected.warnings:
        print(f"monitor: warning: {warning}", file=sys.stderr)
    result = analyse(reference, collected, args.model_dir, settings)
    result["modelVersion"] = args.model_version
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
