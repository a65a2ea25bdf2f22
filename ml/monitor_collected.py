"""Reading what score.py's local sink collected: the JSON lines files under .mlops/collected/<stack>/<deployment>/.

A line is {"collection", "id", "correlationid", "time", "modelversion", "data": [records]} (score.JsonLinesSink).
A line that is not such a record (a half-written last line, another schema after a score.py change) is skipped and
counted per file; a file with skipped lines gets one warning naming it. Nothing here raises on bad content.
"""
from __future__ import annotations

import json
import operator
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from score import FEATURES


@dataclass
class Collected:
    inputs: np.ndarray
    input_times: np.ndarray
    outputs: np.ndarray
    requests: List[Dict[str, Any]]
    files: int = 0
    bad_lines: int = 0
    other_versions: int = 0
    before_window: int = 0
    first_time: Optional[int] = None
    last_time: Optional[int] = None
    skipped: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


NUMBER_TYPES = frozenset((int, float))  # exact types: json gives bool (an int subclass) for true/false
_features_of = operator.itemgetter(*FEATURES)


def _input_rows(data: Any) -> Optional[List[Tuple[float, ...]]]:
    """The rows of a model_inputs record (tuples of the ten features), or None when any is not a number."""
    if not isinstance(data, list):
        return None
    rows = []
    for record in data:
        try:
            row = _features_of(record)  # C speed: one call per row, not one per feature
        except (KeyError, TypeError):
            return None
        if not NUMBER_TYPES.issuperset(map(type, row)):
            return None
        rows.append(row)
    return rows


def _outputs(data: Any) -> Optional[List[float]]:
    if not isinstance(data, list) or any(not isinstance(r, dict) or not _is_number(r.get("prediction")) for r in data):
        return None
    return [float(r["prediction"]) for r in data]


def _requests(data: Any) -> Optional[List[Dict[str, Any]]]:
    if not isinstance(data, list):
        return None
    for r in data:
        if not isinstance(r, dict) or not _is_number(r.get("status")) or not _is_number(r.get("elapsed_ms")):
            return None
    return data


_scan = json.JSONDecoder().scan_once  # the C scanner json.loads itself ends in
JSON_WHITESPACE = " \t\n\r"


def _parse_line(raw: Any) -> Any:
    """json.loads of one line (ValueError when it is not exactly one JSON value), without its per-call encoding
    detection and whitespace regular expressions: a str line goes straight to the C scanner."""
    if isinstance(raw, bytes):
        return json.loads(raw)
    text = raw.strip(JSON_WHITESPACE)
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not a JSON value") from None
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def jsonl_files(folders: List[str]) -> List[str]:
    found = []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for directory, dirs, files in os.walk(folder):
            dirs.sort()
            found.extend(os.path.join(directory, f) for f in sorted(files) if f.endswith(".jsonl"))
    return found


def read(folders: List[str], model_version: str, since: float) -> Collected:
    inputs: List[Tuple[float, ...]] = []
    input_times: List[int] = []
    outputs: List[float] = []
    requests: List[Dict[str, Any]] = []
    times: List[float] = []
    version = str(model_version)
    out = Collected(np.empty((0, len(FEATURES))), np.empty(0), np.empty(0), [])
    # each collection's parser (None: not such records) and the list its records go to
    readers: Dict[str, Tuple[Callable[[Any], Optional[List[Any]]], List[Any]]] = {
        "model_inputs": (_input_rows, inputs),
        "model_outputs": (_outputs, outputs),
        "mlops_requests": (_requests, requests),
    }
    for path in jsonl_files(folders):
        out.files += 1
        bad = 0
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as ex:
            out.skipped.append({"file": path, "badLines": None, "error": type(ex).__name__})
            out.warnings.append(f"{path}: unreadable ({type(ex).__name__}); skipped")
            continue
        try:  # the whole file at once; a file with a line that is not UTF-8 is decoded line by line
            lines: List[Any] = content.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            lines = content.split(b"\n")
        for raw in lines:
            if not raw.strip():
                continue
            try:
                line = _parse_line(raw)
                collection, when, data = line["collection"], line["time"], line["data"]
                if not _is_number(when):
                    raise ValueError("time")
            except (ValueError, KeyError, TypeError, RecursionError):
                bad += 1
                continue
            if str(line.get("modelversion")) != version:
                out.other_versions += 1
                continue
            if when < since:
                out.before_window += 1
                continue
            parse, into = readers.get(collection, (None, None))
            records = parse(data) if parse else None
            if records is None:
                bad += 1
                continue
            into.extend(records)
            if collection == "model_inputs":
                input_times.extend([int(when)] * len(records))
            times.append(when)
        if bad:
            out.bad_lines += bad
            out.skipped.append({"file": path, "badLines": bad})
            out.warnings.append(f"{path}: {bad} truncated or unreadable line(s) skipped")
    if times:
        out.first_time, out.last_time = int(min(times)), int(max(times))
    out.inputs = np.asarray(inputs, dtype=float).reshape(-1, len(FEATURES))
    out.input_times = np.asarray(input_times, dtype=float)
    out.outputs = np.asarray(outputs, dtype=float)
    out.requests = requests
    return out
