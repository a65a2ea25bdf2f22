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

Data collection (docs/monitoring.md): every answered request is recorded through Azure ML's data collector API
(azureml-ai-monitoring's Collector) in three collections, with the SDK's correlation id and time:
    model_inputs    the rows (one record per row, the feature columns)
    model_outputs   the predictions ({"prediction": p} per row)
    mlops_requests  one record per request: status, rows, elapsed_ms, reason (a 400's short label, never its body)
The SDK runs in a collector process (this file run with --mlops-collector, SCHED_IDLE), not in the scoring process: a
request only appends to a deque, and a thread sends the pending requests through a pipe every 0.2 s. On Azure the
deployment's data collector (components/scoringEndpoint.ts) configures the SDK, whose sender ships the data to the
workspace's storage. Locally the driver sets MLOPS_COLLECT_DIR: the SDK is enabled through its own environment
variables with its sender thread off, and the collector writes the SDK's queue into size-rotated JSON lines files
in that folder (one write per file per drain). The DataFrames given to the SDK serialise their records with json
(RecordsFrame): every digit, a tenth of pandas' cost. Requests whose body carries "mlops_synthetic": true (the
driver's smoke, profile and rollout probes) are not collected. Collection never fails or delays a request: a
failure is logged (its kind, never the data) and the answer goes out.
"""
from __future__ import annotations

import collections
import json
import logging
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

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
SYNTHETIC_KEY = "mlops_synthetic"

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


# ---- data collection -------------------------------------------------------------------------------------------
COLLECTIONS = ("model_inputs", "model_outputs", "mlops_requests")
COLLECT_DIR_ENV = "MLOPS_COLLECT_DIR"
COLLECT_PERCENT_ENV = "MLOPS_COLLECT_SAMPLE_PERCENT"
COLLECT_MAX_BYTES_ENV = "MLOPS_COLLECT_MAX_FILE_BYTES"
COLLECT_RETENTION_ENV = "MLOPS_COLLECT_RETENTION_DAYS"
MODEL_VERSION_ENV = "MLOPS_MODEL_VERSION"
DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024
DRAIN_INTERVAL_SECONDS = 0.2


class JsonLinesSink:
    """The local end of collection: writes the SDK's queued payloads to <dir>/<start>-<pid>-<n>.jsonl files,
    a new file once one would pass max_bytes; files older than retention_days are deleted at each rotation.
    One line per SDK payload: {"collection", "id", "correlationid", "time", "modelversion", "data"}."""

    def __init__(self, directory: str, max_bytes: int, retention_days: float, model_version: Optional[str], queue):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.max_bytes = max(1024, max_bytes)
        self.retention_seconds = retention_days * 86400
        self.model_version = model_version
        self.queue = queue
        self.failures = 0
        self.written = 0
        self._file = None
        self._size = 0
        self._seq = 0
        self._stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())

    def drain(self) -> None:
        """Writes every payload queued now (dequeue() returns at once while the queue holds one): one write per
        file per drain, not one per payload."""
        batch: List[bytes] = []
        size = 0
        while self.queue.length() > 0:
            payload, _ = self.queue.dequeue()
            if payload is None:
                break
            try:
                line = self.line(payload)
                if self._file is None or self._size + size + len(line) > self.max_bytes:
                    self._write(batch)
                    batch, size = [], 0
                    self._rotate()
            except Exception as ex:  # a full disk must not stop the drain (the queue would fill, then drop)
                self._failed(ex, 1)
                continue
            batch.append(line)
            size += len(line)
        self._write(batch)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def line(self, payload) -> bytes:
        head = json.dumps({"collection": payload.designation(), "id": payload.id(),
                           "correlationid": payload.correlation_id(), "time": payload.time(),
                           "modelversion": self.model_version})
        return (head[:-1] + ', "data": ' + payload.content() + "}\n").encode("utf-8")

    def _write(self, batch: List[bytes]) -> None:
        if not batch:
            return
        joined = b"".join(batch)
        try:
            view = memoryview(joined)
            while view:  # an unbuffered file: one system call, repeated only after a short write
                view = view[self._file.write(view):]
        except Exception as ex:
            self._failed(ex, len(batch))
            return
        self._size += len(joined)
        self.written += len(batch)

    def _failed(self, ex: Exception, lost: int) -> None:
        before = self.failures
        self.failures += lost
        if before == 0 or before // 1000 != self.failures // 1000:
            logger.warning("score: collection write failed (%s, %d so far); requests are still answered",
                           type(ex).__name__, self.failures)

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._seq += 1
        name = f"{self._stamp}-{os.getpid()}-{self._seq:05d}.jsonl"
        self._file = open(os.path.join(self.directory, name), "ab", buffering=0)
        self._size = 0
        self.prune()

    def prune(self) -> int:
        """Deletes collected files past the retention (never the one being written)."""
        if self.retention_seconds <= 0:
            return 0
        cutoff = time.time() - self.retention_seconds
        removed = 0
        current = getattr(self._file, "name", None)
        for name in os.listdir(self.directory):
            full = os.path.join(self.directory, name)
            if name.endswith(".jsonl") and full != current:
                try:
                    if os.path.getmtime(full) < cutoff:
                        os.remove(full)
                        removed += 1
                except OSError:
                    pass
        return removed


def records_frame_class(pd):
    """A pandas.DataFrame that keeps the records (a list of dicts) it was built from and serialises them with json
    when asked for to_json(orient="records"), which is what the SDK's payload calls (payload/logdata.py,
    PandasFrameData.to_json). pandas' own to_json costs ~100-300 us of Python per call, three calls per request;
    json.dumps of the same values ~10 us, and it keeps every digit (pandas rounds to 10 decimals). Any other call,
    and any frame derived from it (slices, copies are plain DataFrames), goes through pandas."""

    class RecordsFrame(pd.DataFrame):
        _internal_names = pd.DataFrame._internal_names + ["_records"]
        _internal_names_set = set(_internal_names)
        _records: Optional[List[Dict[str, Any]]] = None

        def to_json(self, path_or_buf=None, *args, **kwargs):
            if path_or_buf is None and not args and kwargs == {"orient": "records"} and self._records is not None:
                try:
                    return json.dumps(self._records, separators=(",", ":"), allow_nan=False)
                except ValueError:  # NaN or infinity: pandas writes null
                    pass
            return super().to_json(path_or_buf, *args, **kwargs)

    return RecordsFrame


class Collection:
    """The collector process's three collectors (see CollectorProcess): each request's rows, predictions and outcome,
    given to Collector.collect once per request (so the SDK's per-request sampling and correlation id hold); locally
    the sink then writes what the SDK queued, every `chunk` requests (at most CHUNK, and half of what the SDK's queue
    holds: 1500 payloads by default), so the queue never overflows whatever the batch size."""

    CHUNK = 32
    STATS_COLUMNS = ("status", "rows", "elapsed_ms", "reason")

    def __init__(self, collectors: Dict[str, Any], sink: Optional[JsonLinesSink]):
        # AZUREML_MDC_QUEUE_CAPACITY (default 1500 payloads) read as azureml-ai-monitoring's config does; three per request
        capacity = int(os.getenv("AZUREML_MDC_QUEUE_CAPACITY", "1500") or "1500")
        self.chunk = min(self.CHUNK, max(1, capacity // (2 * len(COLLECTIONS))))
        import numpy as np
        import pandas as pd
        from azureml.ai.monitoring.context import BasicCorrelationContext

        self._np = np
        self._context = BasicCorrelationContext
        self._frame = records_frame_class(pd)
        self._input_columns = pd.Index(FEATURES, dtype=object)
        self._output_columns = pd.Index(["prediction"], dtype=object)
        self._stats_columns = pd.Index(self.STATS_COLUMNS, dtype=object)
        self.collectors = collectors
        self.sink = sink
        self.failures = 0

    def collect_batch(self, items: List[Tuple]) -> None:
        """Collects each (time, rows, predictions, status, reason, elapsed_ms), then (locally) writes what the SDK
        queued, `chunk` requests at a time."""
        for first in range(0, len(items), self.chunk):
            for item in items[first:first + self.chunk]:
                try:
                    self._collect(*item)
                except Exception as ex:  # never the request's problem
                    self.on_error(ex)
            if self.sink is not None:
                self.sink.drain()

    def _collect(self, when: float, rows: Optional[List[List[float]]], predictions: Optional[List[float]],
                 status: int, reason: Optional[str], elapsed_ms: float) -> None:
        context = self._context(timestamp=int(when))
        np, frame = self._np, self._frame
        if rows is not None and predictions is not None:
            inputs = frame(np.asarray(rows, dtype=float), columns=self._input_columns)
            inputs._records = [dict(zip(FEATURES, row)) for row in rows]
            self.collectors["model_inputs"].collect(inputs, context)
            outputs = frame(np.asarray(predictions, dtype=float).reshape(-1, 1), columns=self._output_columns)
            outputs._records = [{"prediction": p} for p in predictions]
            self.collectors["model_outputs"].collect(outputs, context)
        stats = (status, len(rows) if rows is not None else 0, round(elapsed_ms, 3), reason)
        # an object array: pandas' dict constructor (typed columns) costs ~300 us, this ~50 us
        request = frame(np.array([stats], dtype=object), columns=self._stats_columns)
        request._records = [dict(zip(self.STATS_COLUMNS, stats))]
        self.collectors["mlops_requests"].collect(request, context)

    def close(self) -> None:
        if self.sink is not None:
            self.sink.drain()
            self.sink.close()

    def on_error(self, ex: Exception) -> None:
        self.failures += 1
        if self.failures == 1 or self.failures % 1000 == 0:
            # the kind and the SDK's own message (which names the collection, never the data)
            logger.warning("score: data collection failed (%s: %s; %d so far); requests are still answered",
                           type(ex).__name__, str(ex)[:120], self.failures)


def _local_collection_env() -> Optional[Dict[str, Any]]:
    """MLOPS_COLLECT_* (set by the driver's local target): the SDK's environment settings and the sink's."""
    directory = os.environ.get(COLLECT_DIR_ENV)
    if not directory:
        return None
    percent = float(os.environ.get(COLLECT_PERCENT_ENV, "100"))
    # the SDK's own switches (azureml.ai.monitoring.config.loadConfig): enabled, sample rate, no HTTP sender
    os.environ.pop("AZUREML_MDC_CONFIG_PATH", None)
    os.environ["AZUREML_MDC_ENABLED"] = "true"
    os.environ["AZUREML_MDC_SAMPLE_RATE"] = str(int(round(percent)))
    os.environ["AZUREML_MDC_WORKER_DISABLED"] = "true"
    return {
        "directory": directory,
        "max_bytes": int(os.environ.get(COLLECT_MAX_BYTES_ENV, str(DEFAULT_MAX_FILE_BYTES))),
        "retention_days": float(os.environ.get(COLLECT_RETENTION_ENV, "30")),
        "model_version": os.environ.get(MODEL_VERSION_ENV),
    }


def collection_configured() -> bool:
    """Whether anything asks for collection: the driver's local sink, or the data collector Azure ML sets up on a
    deployment that has one (the SDK's AZUREML_MDC_CONFIG_PATH file, or its legacy AZUREML_MDC_ENABLED switch)."""
    return bool(os.environ.get(COLLECT_DIR_ENV) or os.environ.get("AZUREML_MDC_CONFIG_PATH")
                or os.environ.get("AZUREML_MDC_ENABLED", "").lower() == "true")


def start_collecting() -> Tuple[Optional[Collection], str]:
    """In the collector process: the three Collectors and, locally, the sink; (None, why) when collection is off."""
    try:
        local = _local_collection_env()
        if local is not None:  # a folder that cannot be made is said before the SDK's imports (half a second)
            os.makedirs(local["directory"], exist_ok=True)
        from azureml.ai.monitoring import Collector

        refused: List[str] = []
        # the SDK calls on_error at construction when collection is not enabled, later for a dropped payload
        handler = [lambda ex: refused.append(str(ex)[:120])]
        collectors = {name: Collector(name=name, on_error=lambda ex: handler[0](ex)) for name in COLLECTIONS}
        if refused:  # not enabled on this deployment (no data collection configured for these collections)
            return None, f"data collection is off ({refused[0]})"
        sink = None
        if local is not None:
            from azureml.ai.monitoring.queue import get_queue

            sink = JsonLinesSink(local["directory"], local["max_bytes"], local["retention_days"],
                                 local["model_version"], get_queue())
        result = Collection(collectors, sink)
        handler[0] = result.on_error  # from here on an SDK-reported failure (queue full, ...) is counted and logged
        return result, "collecting " + ", ".join(COLLECTIONS) + (f" to {local['directory']}" if local else "")
    except ImportError:
        return None, "azureml-ai-monitoring is not installed; requests are not collected"
    except Exception as ex:  # a bad setting, a sink folder that cannot be made: scoring goes on without it
        return None, f"data collection cannot start ({type(ex).__name__}: {str(ex)[:160]}); requests are not collected"


# ---- the collector process -------------------------------------------------------------------------------------
COLLECTOR_FLAG = "--mlops-collector"
FRAME_HEADER = struct.Struct(">I")
MAX_FRAME_ITEMS = 512


def yield_the_cores() -> str:
    """Puts this process under Linux's SCHED_IDLE policy (it runs only when no other process wants the core, and a
    waking request preempts it at once), or at nice 19 where that is refused; which one, for the log."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "SCHED_IDLE"
    except (AttributeError, OSError):
        try:
            os.nice(19)
        except OSError:
            return "normal priority"
        return "nice 19"


def collector_main(handshake_fd: int) -> int:
    """`python score.py --mlops-collector FD`: the collector process. Says "ready ..." or "off ..." on FD, then
    collects the frames it reads on stdin until end of file (its scoring process ended or stopped it), writes what
    is left and exits. Under SCHED_IDLE, and deaf to SIGINT/SIGTERM: it ends with its scoring process, having written all it got."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    priority = yield_the_cores()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    collection, message = start_collecting()
    if collection is not None:
        message += f" (collector process at {priority})"
    with os.fdopen(handshake_fd, "w") as handshake:
        handshake.write(("ready " if collection is not None else "off ") + message.replace("\n", " ") + "\n")
    if collection is None:
        return 0
    stream = sys.stdin.buffer
    while True:
        header = stream.read(FRAME_HEADER.size)
        if len(header) < FRAME_HEADER.size:
            break
        body = stream.read(FRAME_HEADER.unpack(header)[0])
        try:
            items = pickle.loads(body)
        except Exception as ex:  # a frame cut short by its sender's death: what came before it is kept
            collection.on_error(ex)
            break
        collection.collect_batch(items)
    collection.close()
    return 0


class CollectorProcess:
    """The scoring process's end of collection. A request appends its rows, predictions and outcome to a bounded
    deque (microseconds); a thread sends what is pending every DRAIN_INTERVAL_SECONDS, pickled, through a pipe to a
    collector process (this same file run with --mlops-collector), which builds the DataFrames and calls the SDK's
    Collector. The SDK's work (and on Azure its HTTP sender) therefore never holds this process's GIL; in-process it
    added a third to p99 (bench/monitor.ts). The collector ends when the pipe closes: when this process exits, even
    by kill -9, it writes what it got and exits (nothing orphaned). If it dies it is started again, at most
    MAX_RESTARTS times; meanwhile and past that, requests are answered and not collected (logged)."""

    MAX_PENDING = 5000
    MAX_PENDING_ROWS = 50_000  # about 25 MB of Python floats: 50 requests of 1000 rows, or 5000 of 10
    MAX_RESTARTS = 3
    START_TIMEOUT_SECONDS = 120.0

    def __init__(self, script: str):
        self.script = script
        self.dropped = 0
        self.restarts = 0
        self.process: Optional[subprocess.Popen] = None
        self.message = ""
        self._pending: "collections.deque" = collections.deque()
        self._pending_rows = 0
        self._count = threading.Lock()  # _pending_rows is updated by the request thread and the sending thread
        self._lock = threading.Lock()  # one writer of the pipe at a time (the thread, or stop())
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> bool:
        """Starts the collector and waits for its first line; False (and the reason in .message) when it is off."""
        read_fd, write_fd = os.pipe()
        try:
            process = subprocess.Popen([sys.executable, self.script, COLLECTOR_FLAG, str(write_fd)],
                                       stdin=subprocess.PIPE, pass_fds=(write_fd,), close_fds=True)
        finally:
            os.close(write_fd)
        with os.fdopen(read_fd, "r") as handshake:
            ready, _, _ = select.select([handshake], [], [], self.START_TIMEOUT_SECONDS)
            line = handshake.readline().strip() if ready else ""
        if not line.startswith("ready "):
            self._end(process)
            self.message = line[4:] if line.startswith("off ") else (
                f"the collector process did not start (exit code {process.returncode}); requests are not collected")
            return False
        self.process, self.message = process, line[6:]
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mlops-collect", daemon=True)
            self._thread.start()
        return True

    def record(self, rows: Optional[List[List[float]]], predictions: Optional[List[float]], status: int,
               reason: Optional[str], elapsed_ms: float) -> None:
        size = self._weight(rows)
        if len(self._pending) >= self.MAX_PENDING or self._pending_rows + size > self.MAX_PENDING_ROWS:
            # the collector is behind or gone: drop, never wait, never hold more than the bounds
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("score: collection is behind, %d request(s) not collected", self.dropped)
            return
        with self._count:
            self._pending_rows += size
        self._pending.append((time.time(), rows, predictions, status, reason, elapsed_ms))

    @staticmethod
    def _weight(rows: Optional[List[List[float]]]) -> int:
        """What one pending request counts against MAX_PENDING_ROWS: its rows, and one for its outcome record."""
        return 1 + (len(rows) if rows is not None else 0)

    def _run(self) -> None:
        while not self._stopping.wait(DRAIN_INTERVAL_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Sends every pending request to the collector (blocking in the pipe's write, which gives up the GIL)."""
        with self._lock:
            while self._running() and self._pending:
                items = [self._pending.popleft() for _ in range(min(MAX_FRAME_ITEMS, len(self._pending)))]
                with self._count:
                    self._pending_rows -= sum(self._weight(item[1]) for item in items)
                body = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
                try:
                    self.process.stdin.write(FRAME_HEADER.pack(len(body)) + body)
                    self.process.stdin.flush()
                except (OSError, ValueError):  # the collector died: this batch is lost, the next goes to a new one
                    self._lost(len(items))

    def _running(self) -> bool:
        """Whether a collector runs now: the current one, else a new one started here (within MAX_RESTARTS)."""
        if self.process is not None:
            if self.process.poll() is None:
                return True
            self._lost(0)
        if self.restarts < self.MAX_RESTARTS and not self._stopping.is_set():
            self.restarts += 1
            if self.start():
                logger.warning("score: the collector process was started again (%d of %d)", self.restarts,
                               self.MAX_RESTARTS)
                return True
            logger.warning("score: the collector process cannot start again: %s", self.message)
        return False

    def _lost(self, lost: int) -> None:
        process, self.process = self.process, None
        if process is not None:
            self._end(process)
            logger.warning("score: the collector process ended (exit code %s); %d request(s) not collected, "
                           "requests are still answered", process.returncode, lost)
        self.dropped += lost

    @staticmethod
    def _end(process: subprocess.Popen, timeout: float = 10.0) -> None:
        """Closes the collector's stdin (it writes what it got and exits) and reaps it; kills it after `timeout`."""
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Sends what is pending, then ends the collector, which writes everything before it exits."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        with self._lock:
            if self.process is not None:
                self._end(self.process, timeout)
                self.process = None


collection: Optional[CollectorProcess] = None


def init_collection() -> Optional[CollectorProcess]:
    """The collector process, or None when collection is off (said once in the log; scoring goes on)."""
    if not collection_configured():
        logger.info("score: data collection is off (no data collector is configured for this deployment)")
        return None
    try:
        process = CollectorProcess(os.path.abspath(__file__))
        if process.start():
            logger.info("score: %s (collector process %d)", process.message, process.process.pid)
            return process
        # off by configuration is news (info); off because it cannot work is a problem (warning)
        log = logger.warning if "not collected" in process.message else logger.info
        log("score: %s", process.message)
    except Exception as ex:  # no process can be started here: scoring goes on without collection
        logger.warning("score: data collection cannot start (%s: %s); requests are not collected",
                       type(ex).__name__, str(ex)[:160])
    return None


def shutdown_collection() -> None:
    """Sends what is pending and ends the collector process (tests; a worker's exit ends it through the pipe)."""
    global collection
    if collection is not None:
        collection.stop()
    collection = None


def init() -> None:
    global model
    global collection, max_request_bytes
    max_request_bytes = read_max_request_bytes()
    root = os.environ.get("AZUREML_MODEL_DIR")
    if not root:
        raise RuntimeError("AZUREML_MODEL_DIR is not set")
    path = find_model_file(root)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        model = pickle.load(handle)
    logger.info("score: loaded %s in %.0f ms", path, (time.perf_counter() - started) * 1e3)
    if collection is None:
        collection = init_collection()


def parse_request(raw_data: Any) -> List[List[float]]:
    """Validate a request body; return the rows or raise BadRequest with a message for the client."""
    return parse_body(raw_data)[0]


def parse_body(raw_data: Any) -> Tuple[List[List[float]], bool]:
    """parse_request, and whether the body is marked "mlops_synthetic": true (the driver's own traffic)."""
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
                missing = value is None or (isinstance(value, float) and math.isnan(value))
                shown = f"a {type(value).__name__}" if isinstance(value, (list, dict)) else json.dumps(value)[:40]
                raise BadRequest("missing" if missing else "not_a_number", f"row {i}, column {j} ('{FEATURES[j]}'): "
                                                 f"{shown} is not a finite number")
    return [[float(v) for v in row] for row in rows], body.get(SYNTHETIC_KEY) is True


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
        rows, synthetic = parse_body(raw_data)
    except BadRequest as ex:
        elapsed_ms = (time.perf_counter() - started) * 1e3
        logger.info("score: status=400 reason=%s elapsed_ms=%.1f", ex.kind, elapsed_ms)
        if collection is not None:
            collection.record(None, None, 400, ex.kind, elapsed_ms)
        return AMLResponse({"error": str(ex)}, 400, json_str=True)
    predictions = [float(p) for p in model.predict(rows)]
    elapsed_ms = (time.perf_counter() - started) * 1e3
    logger.info("score: status=200 rows=%d elapsed_ms=%.1f", len(rows), elapsed_ms)
    if collection is not None and not synthetic:
        collection.record(rows, predictions, 200, None, elapsed_ms)
    return {"predictions": predictions}


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == COLLECTOR_FLAG:
    sys.exit(collector_main(int(sys.argv[2])))
