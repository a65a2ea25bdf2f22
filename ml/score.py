"""Scoring script for the Azure ML inference server (azmlinfsrv) and Azure ML online deployments.

Contract:
    init()          loads the one model.pkl found (recursively) under $AZUREML_MODEL_DIR with pickle;
                    MLflow is not imported, so a worker starts fast.
    run(raw_data)   request  {"data": [[10 finite numbers], ...]}  (1..1000 rows)
                    success  {"predictions": [float, ...]}         HTTP 200
                    bad input AMLResponse({"error": "..."}, 400)    HTTP 400, the server keeps serving
                    (JSON nested too deeply to parse is bad input too, never a 500)
                    body over $MLOPS_MAX_REQUEST_BYTES (default 1 MiB)  HTTP 413, checked before parsing

Per request it logs the row count, status and elapsed time, never the payload.
"""
from __future__ import annotations

import json
import logging
import math
import os
import pickle
import time
from typing import Any, List, Optional

try:  # inside azmlinfsrv this module name is aliased to the server's own AMLResponse (a flask Response)
    from azureml.contrib.services.aml_response import AMLResponse
except ImportError:
    try:
        from azureml_inference_server_http.api.aml_response import AMLResponse
    except ImportError:  # the server package is absent: a stand-in with the same shape, for tests and tools

        class AMLResponse:  # type: ignore[no-redef]
            def __init__(self, message: Any, status_code: int, response_headers: Optional[dict] = None,
                         json_str: bool = False, run_function_failed: bool = False):
                self.status_code = status_code
                self.headers = dict(response_headers or {})
                self._body = json.dumps(message) if json_str else message

            def get_data(self, as_text: bool = False):
                body = self._body if isinstance(self._body, str) else str(self._body)
                return body if as_text else body.encode("utf-8")


N_FEATURES = 10
MAX_ROWS = 1000
FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
MODEL_FILE = "model.pkl"
DEFAULT_MAX_REQUEST_BYTES = 1_048_576  # the default of scoring.maxRequestBytes in mlops.yaml

# A child of the server's "azmlinfsrv" logger: its handlers and INFO level apply inside azmlinfsrv.
logger = logging.getLogger("azmlinfsrv.score")
model = None
max_request_bytes = DEFAULT_MAX_REQUEST_BYTES


class BadRequest(ValueError):
    """The request is malformed; `kind` is a short, payload-free label for logs."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


def find_model_file(root: str) -> str:
    found: List[str] = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        if MODEL_FILE in files:
            found.append(os.path.join(directory, MODEL_FILE))
    if not found:
        raise FileNotFoundError(f"no {MODEL_FILE} under AZUREML_MODEL_DIR={root}")
    if len(found) > 1:
        raise RuntimeError(f"{len(found)} {MODEL_FILE} files under AZUREML_MODEL_DIR={root}: {found}")
    return found[0]


def read_max_request_bytes() -> int:
    raw = os.environ.get("MLOPS_MAX_REQUEST_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_REQUEST_BYTES
    if not raw.isdigit() or int(raw) < 1024:
        raise ValueError(f"MLOPS_MAX_REQUEST_BYTES must be a whole number of bytes >= 1024, not {raw!r}")
    return int(raw)


def body_size(raw_data: Any, limit: int) -> int:
    """The body's size in bytes; a text body longer than `limit` characters is not encoded to count it."""
    if isinstance(raw_data, (bytes, bytearray)):
        return len(raw_data)
    if not isinstance(raw_data, str) or len(raw_data) > limit:
        return len(raw_data) if isinstance(raw_data, str) else 0
    return len(raw_data.encode("utf-8", "surrogatepass"))


def init() -> None:
    global model
    global max_request_bytes
    max_request_bytes = read_max_request_bytes()
    root = os.environ.get("AZUREML_MODEL_DIR")
    if not root:
        raise RuntimeError("AZUREML_MODEL_DIR is not set")
    path = find_model_file(root)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        model = pickle.load(handle)
    logger.info("score: loaded %s in %.0f ms", path, (time.perf_counter() - started) * 1e3)


def parse_request(raw_data: Any) -> List[List[float]]:
    """Validate a request body; return the rows or raise BadRequest with a message for the client."""
    if isinstance(raw_data, (bytes, bytearray)):
        try:
            raw_data = raw_data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("encoding", "request body is not UTF-8 text") from None
    if isinstance(raw_data, str) and not raw_data.strip():
        # azmlinfsrv passes an empty body when Content-Type is a form type (curl --data's default)
        raise BadRequest("empty_body", "request body is empty: send JSON with Content-Type: application/json")
    if isinstance(raw_data, str):
        try:
            body = json.loads(raw_data)
        except ValueError as ex:
            raise BadRequest("json", f"request body is not valid JSON: {ex}") from None
        except RecursionError:
            raise BadRequest("json_depth", 'request body is nested too deeply; send {"data": [[10 numbers], ...]}') from None
    else:
        body = raw_data
    if not isinstance(body, dict) or "data" not in body:
        raise BadRequest("shape", 'request must be a JSON object with a "data" key: {"data": [[10 numbers], ...]}')
    rows = body["data"]
    if not isinstance(rows, list):
        raise BadRequest("shape", '"data" must be a list of rows, each a list of 10 numbers')
    if not rows:
        raise BadRequest("empty", '"data" is empty: send 1 to 1000 rows')
    if len(rows) > MAX_ROWS:
        raise BadRequest("too_many_rows", f'"data" has {len(rows)} rows, at most {MAX_ROWS} are allowed')
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != N_FEATURES:
            got = f"{len(row)} values" if isinstance(row, list) else f"a {type(row).__name__}"
            raise BadRequest("row_length", f"row {i}: expected a list of {N_FEATURES} numbers "
                                           f"({','.join(FEATURES)}), got {got}")
        for j, value in enumerate(row):
            # bool is an int subclass in Python; true/false are not feature values
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                shown = f"a {type(value).__name__}" if isinstance(value, (list, dict)) else json.dumps(value)[:40]
                raise BadRequest("not_a_number", f"row {i}, column {j} ('{FEATURES[j]}'): "
                                                 f"{shown} is not a finite number")
    return [[float(v) for v in row] for row in rows]


def run(raw_data: Any):
    started = time.perf_counter()
    if model is None:
        raise RuntimeError("init() has not loaded a model")
    size = body_size(raw_data, max_request_bytes)
    if size > max_request_bytes:
        logger.info("score: status=413 bytes=%d elapsed_ms=%.1f", size, (time.perf_counter() - started) * 1e3)
        return AMLResponse({"error": f"request body is {size} bytes, more than the {max_request_bytes} allowed "
                                     "(scoring.maxRequestBytes in mlops.yaml); send fewer rows per request"},
                           413, json_str=True)
    try:
        rows = parse_request(raw_data)
    except BadRequest as ex:
        logger.info("score: status=400 reason=%s elapsed_ms=%.1f", ex.kind, (time.perf_counter() - started) * 1e3)
        return AMLResponse({"error": str(ex)}, 400, json_str=True)
    predictions = [float(p) for p in model.predict(rows)]
    logger.info("score: status=200 rows=%d elapsed_ms=%.1f", len(rows), (time.perf_counter() - started) * 1e3)
    return {"predictions": predictions}
