"""score.py's data collection: through Azure ML's Collector into the local sink's JSON lines, never at the request's cost."""
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import score

ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598123456789, 87]


def lines(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            out.extend(json.loads(line) for line in handle if line.strip())
    return out


@pytest.fixture
def settings(trained, tmp_path, monkeypatch):
    """The driver's MLOPS_COLLECT_* settings (more with **env) and a model; returns the sink folder. Starts nothing."""
    model_dir = tmp_path / "model"
    shutil.copytree(trained.model_dir, model_dir)
    sink = tmp_path / "collected" / "int" / "int"
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    monkeypatch.setenv(score.COLLECT_DIR_ENV, str(sink))
    monkeypatch.setenv(score.MODEL_VERSION_ENV, "7")
    for name in ("AZUREML_MDC_ENABLED", "AZUREML_MDC_SAMPLE_RATE", "AZUREML_MDC_WORKER_DISABLED", "AZUREML_MDC_CONFIG_PATH"):
        monkeypatch.setenv(name, "")  # restored after the test (start_collecting() sets some of them)
        monkeypatch.delenv(name)

    def apply(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return sink

    yield apply
    score.shutdown_collection()
    score.model = None


@pytest.fixture
def collecting(settings):
    """score.init() with those settings: a real collector process; returns the sink folder."""

    def start(**env):
        sink = settings(**env)
        score.shutdown_collection()
        score.init()
        return sink

    return start


def test_each_answered_request_is_collected_with_its_inputs_predictions_id_and_time(collecting):
    sink = collecting()
    pid = score.collection.process.pid
    assert pid != os.getpid(), "the SDK runs in a collector process, not in the scoring process"
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE, "a waking request preempts the collector at once"
    assert "(collector process at SCHED_IDLE)" in score.collection.message
    before = int(time.time())
    answers = [score.run(json.dumps({"data": [ROW, ROW]})), score.run(json.dumps({"data": [ROW]}))]
    score.run(json.dumps({"data": [ROW[:9] + [None]]}))
    score.run(json.dumps({"data": [ROW[:9] + ["x"]]}))
    score.shutdown_collection()  # flushes the queue
    records = lines(sink)
    by = {c: [r for r in records if r["collection"] == c] for c in score.COLLECTIONS}
    assert [len(r["data"]) for r in by["model_inputs"]] == [2, 1]
    assert by["model_inputs"][0]["data"][0] == dict(zip(score.FEATURES, [float(v) for v in ROW]))
    # every digit of what was asked and answered (pandas' own to_json would round to 10 decimals)
    collected = [[p["prediction"] for p in r["data"]] for r in by["model_outputs"]]
    assert collected == [a["predictions"] for a in answers]
    # inputs and outputs of one request share the SDK's correlation id; every payload has its own id
    assert [r["correlationid"] for r in by["model_inputs"]] == [r["correlationid"] for r in by["model_outputs"]]
    assert len({r["id"] for r in records}) == len(records)
    assert all(r["time"] >= before and r["modelversion"] == "7" for r in records)
    stats = [r["data"][0] for r in by["mlops_requests"]]
    assert [(s["status"], s["rows"], s["reason"]) for s in stats] == [(200, 2, None), (200, 1, None), (400, 0, "missing"), (400, 0, "not_a_number")]
    assert all(s["elapsed_ms"] > 0 for s in stats)


def test_the_drivers_synthetic_requests_are_answered_but_not_collected(settings, monkeypatch):
    settings()
    monkeypatch.delenv(score.COLLECT_DIR_ENV)
    score.init()  # collection off; then a collector that is never started, to look at what the requests hand it
    score.collection = score.CollectorProcess("never started")
    body = score.run(json.dumps({"data": [ROW], score.SYNTHETIC_KEY: True}))
    assert len(body["predictions"]) == 1
    score.run(json.dumps({"data": [ROW]}))
    assert [item[1] for item in score.collection._pending] == [[[float(v) for v in ROW]]]


def test_sampling_rate_zero_collects_no_rows(collector_side):
    collection = collector_side(**{score.COLLECT_PERCENT_ENV: "0"})
    collection.collect_batch([request() for _ in range(20)])
    collection.close()
    assert [r for r in lines(collection.sink.directory) if r["collection"] == "model_inputs"] == []


def test_files_rotate_by_size_and_old_files_are_removed(collector_side, tmp_path):
    sink = tmp_path / "collected" / "int" / "int"
    sink.mkdir(parents=True)
    old = sink / "20200101T000000-1-00001.jsonl"
    old.write_text("{}\n")
    stale = time.time() - 40 * 86400
    os.utime(old, (stale, stale))
    collection = collector_side(**{score.COLLECT_MAX_BYTES_ENV: "1024", score.COLLECT_RETENTION_ENV: "30"})
    collection.collect_batch([request() for _ in range(30)])
    collection.close()
    files = sorted(os.listdir(sink))
    assert old.name not in files, "a file past the retention is deleted at rotation"
    assert len(files) > 3
    assert all(os.path.getsize(sink / f) <= 1024 for f in files)
    assert sum(1 for r in lines(sink) if r["collection"] == "model_inputs") == 30


@pytest.fixture
def collector_side(settings):
    """The collector process's side, run in this process: start_collecting() with the same settings, fed by hand."""

    def start(**env):
        settings(**env)
        result, message = score.start_collecting()
        assert result is not None, message
        return result

    yield start
    from azureml.ai.monitoring import init as mdc_init

    mdc_init.teardown()


def request(age=59.0, status=200):
    """One request as the scoring process sends it: (time, rows, predictions, status, reason, elapsed_ms)."""
    return (time.time(), [[float(age)] + [float(v) for v in ROW[1:]]], [150.0 + age], status, None, 1.5)


def test_a_failing_collector_is_logged_without_the_payload(collector_side, caplog):
    collection = collector_side()
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")

    def boom(*_a, **_k):
        raise OSError("disk gone")

    collection.collectors["model_inputs"].collect = boom
    collection.collect_batch([request(123456.789)])
    assert collection.failures == 1
    assert "data collection failed (OSError" in caplog.text
    assert "123456" not in caplog.text


def test_a_sink_that_cannot_write_loses_the_records_not_the_collector(collector_side, caplog):
    collection = collector_side()
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")

    def no_space():
        raise OSError(28, "No space left on device")

    collection.sink._rotate = no_space
    collection.collect_batch([request() for _ in range(5)])
    collection.close()
    assert collection.sink.failures >= 5 and collection.sink.written == 0
    assert "collection write failed (OSError" in caplog.text
    assert not any(Path(collection.sink.directory).glob("*.jsonl"))


def test_a_dead_collector_is_started_again_once_then_collection_stays_off_and_requests_are_answered(collecting, caplog, monkeypatch):
    monkeypatch.setattr(score.CollectorProcess, "MAX_RESTARTS", 1)
    sink = collecting()
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")
    first = score.collection.process.pid
    os.kill(first, signal.SIGKILL)
    score.collection.process.wait()
    assert "predictions" in score.run(json.dumps({"data": [ROW]}))  # answered, the collector dead
    score.collection.flush()  # the next send starts a new collector
    assert score.collection.process is not None and score.collection.process.pid != first
    assert "collector process ended (exit code -9)" in caplog.text and "started again (1 of 1)" in caplog.text
    score.run(json.dumps({"data": [[1.0] + ROW[1:]]}))
    score.collection.flush()
    second = score.collection.process
    second.stdin.close()  # the collector writes what it got and ends (as when its pipe breaks)
    second.wait(timeout=30)
    assert [r["data"][0]["age"] for r in lines(sink) if r["collection"] == "model_inputs"][-1] == 1.0
    for _ in range(3):  # past its restarts: off, and requests are still answered
        assert "predictions" in score.run(json.dumps({"data": [ROW]}))
    score.collection.flush()
    assert score.collection.process is None and caplog.text.count("started again") == 1


def test_what_waits_for_the_collector_is_bounded_in_requests_and_rows(caplog):
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")
    pending = score.CollectorProcess("never started")  # nothing drains it: the collector is behind
    big = [[1.0] * 10] * score.MAX_ROWS
    for _ in range(60):
        pending.record(big, [1.0] * score.MAX_ROWS, 200, None, 1.0)
    kept = score.CollectorProcess.MAX_PENDING_ROWS // (score.MAX_ROWS + 1)
    assert len(pending._pending) == kept and pending.dropped == 60 - kept
    for _ in range(score.CollectorProcess.MAX_PENDING):
        pending.record(None, None, 400, "json", 1.0)
    assert len(pending._pending) + pending.dropped == 60 + score.CollectorProcess.MAX_PENDING
    assert "collection is behind, 1 request(s) not collected" in caplog.text


def running(pid):
    """True while `pid` runs: not gone, not a zombie (an orphan's exit is reaped by init whenever init gets to it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


SCORING_PROCESS = """
import json, os, signal, sys
sys.path.insert(0, sys.argv[1])
import score
score.collection = score.init_collection()  # what init() starts after loading the model (not needed here)
print("collector-pid", score.collection.process.pid, flush=True)
for i in range(20):
    score.collection.record([[float(i)] + [1.0] * 9], [100.0 + i], 200, None, 1.0)  # what run() hands it
score.collection.flush()  # in the pipe: the collector has it
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_scoring_process_killed_hard_leaves_no_collector_behind_and_loses_nothing_it_sent(settings):
    sink = settings()
    child = subprocess.run([sys.executable, "-c", SCORING_PROCESS, str(Path(score.__file__).parent)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr[-400:]
    # (its output is also the collector's: the SDK logs to stdout, and the run waited for both to close it)
    collector = int(next(line for line in child.stdout.splitlines() if line.startswith("collector-pid")).split()[1])
    deadline = time.time() + 20
    while running(collector) and time.time() < deadline:
        time.sleep(0.02)
    assert not running(collector), "the collector outlived its scoring process"
    assert [r["data"][0]["age"] for r in lines(sink) if r["collection"] == "model_inputs"] == [float(i) for i in range(20)]


def test_a_sink_folder_that_cannot_be_made_turns_collection_off_and_scoring_goes_on(collecting, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")
    collecting(**{score.COLLECT_DIR_ENV: str(blocker / "sub")})
    assert score.collection is None
    assert "requests are not collected" in caplog.text
    assert "predictions" in score.run(json.dumps({"data": [ROW]}))


def test_without_a_data_collector_configured_collection_is_off(trained, monkeypatch, caplog):
    # on Azure without the deployment's data collector (and locally without MLOPS_COLLECT_DIR) the SDK is disabled
    for name in (score.COLLECT_DIR_ENV, "AZUREML_MDC_ENABLED", "AZUREML_MDC_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZUREML_MODEL_DIR", trained.model_dir)
    caplog.set_level(logging.INFO, logger="azmlinfsrv.score")
    score.shutdown_collection()
    score.init()
    try:
        assert score.collection is None
        assert "data collection is off" in caplog.text
        assert "predictions" in score.run(json.dumps({"data": [ROW]}))
    finally:
        score.model = None


def test_more_requests_than_the_sdk_queue_holds_in_one_batch_are_all_collected(collector_side):
    # the SDK's queue holds AZUREML_MDC_QUEUE_CAPACITY payloads (1500 by default; three per request): the collector
    # drains it every `chunk` requests. A small queue: 75 payloads into 30, the same overflow as 700 requests into 1500.
    collection = collector_side(AZUREML_MDC_QUEUE_CAPACITY="30")
    assert collection.chunk == 5
    collection.collect_batch([request(i) for i in range(25)])
    collection.close()
    assert collection.failures == 0
    inputs = [r["data"][0]["age"] for r in lines(collection.sink.directory) if r["collection"] == "model_inputs"]
    assert inputs == [float(i) for i in range(25)]


@pytest.mark.parametrize("records", [
    [dict(zip(score.FEATURES, [float(v) for v in ROW])), dict(zip(score.FEATURES, [0.1 * v for v in range(10)]))],
    [{"prediction": 152.13300456172839}],
    [{"status": 400, "rows": 0, "elapsed_ms": 0.123, "reason": "missing"}, {"status": 200, "rows": 3, "elapsed_ms": 2.5, "reason": None}],
])
def test_the_records_frame_serialises_the_records_pandas_would(records):
    import pandas as pd

    frame = score.records_frame_class(pd)(pd.DataFrame(records))
    frame._records = records
    ours = json.loads(frame.to_json(orient="records"))
    assert ours == records
    theirs = json.loads(pd.DataFrame(records).to_json(orient="records"))
    assert [sorted(r) for r in ours] == [sorted(r) for r in theirs]
    for mine, pandas_own in zip(ours, theirs):
        for key, value in pandas_own.items():
            assert mine[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value)
    assert frame.to_json(orient="split") == pd.DataFrame(records).to_json(orient="split")
    frame._records = [{"prediction": float("nan")}]
    assert json.loads(frame.to_json(orient="records")) == json.loads(pd.DataFrame(records).to_json(orient="records"))
