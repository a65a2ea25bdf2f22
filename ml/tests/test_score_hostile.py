"""Hostile requests get a 4xx, never a 500: deep nesting (400), oversized bodies (413, checked before parsing).

The last test runs the real Azure ML inference server (azmlinfsrv) on a free loopback port: the server hands
run() the body as text (JsonStringInput) and answers what run() returns, so these statuses are what a client sees.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import score

ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
ML_DIR = Path(__file__).resolve().parents[1]
DEEP = '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"


def status_and_body(response):
    if isinstance(response, dict):
        return 200, response
    return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.fixture
def served(trained, monkeypatch):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(trained.model_dir))
    score.init()
    yield score
    score.model = None


def test_deeply_nested_json_is_a_400_naming_the_nesting(served):
    status, body = status_and_body(served.run(DEEP))
    assert status == 400
    assert "nested too deeply" in body["error"]
    assert status_and_body(served.run(json.dumps({"data": [ROW]})))[0] == 200


def test_a_nested_value_in_a_row_is_a_400_whose_message_does_not_echo_it(served):
    deep_value = "[" * 900 + "]" * 900
    status, body = status_and_body(served.run('{"data": [[1,2,3,4,5,6,7,8,9,' + deep_value + "]]}"))
    assert status == 400
    assert body["error"].startswith("row 0, column 9 ('s6'): a list is not a finite number")


def test_a_body_over_the_limit_is_a_413_before_it_is_parsed(served, monkeypatch):
    monkeypatch.setenv("MLOPS_MAX_REQUEST_BYTES", "2048")
    served.init()
    not_json_but_big = "x" * 4096  # would be a 400 if it were parsed
    status, body = status_and_body(served.run(not_json_but_big))
    assert status == 413
    assert body["error"] == "request body is 4096 bytes, more than the 2048 allowed (scoring.maxRequestBytes in mlops.yaml); send fewer rows per request"
    # bytes, not characters: 700 three-byte characters are 2100 bytes
    assert status_and_body(served.run('"' + "\u20ac" * 700 + '"'))[0] == 413
    assert status_and_body(served.run(json.dumps({"data": [ROW]})))[0] == 200


def test_the_default_limit_is_1_mib_and_1000_rows_fit_well_within_it(served, monkeypatch):
    monkeypatch.delenv("MLOPS_MAX_REQUEST_BYTES", raising=False)
    served.init()
    assert status_and_body(served.run(json.dumps({"data": [ROW] * 1000})))[0] == 200
    assert status_and_body(served.run(b"[" + b" " * (1024 * 1024) + b"]"))[0] == 413


def test_a_bad_limit_fails_init_with_one_line(trained, monkeypatch):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(trained.model_dir))
    monkeypatch.setenv("MLOPS_MAX_REQUEST_BYTES", "lots")
    with pytest.raises(ValueError, match="MLOPS_MAX_REQUEST_BYTES must be a whole number of bytes >= 1024, not 'lots'"):
        score.init()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: bytes):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.skipif(shutil.which("azmlinfsrv") is None and not Path(sys.executable).with_name("azmlinfsrv").exists(),
                    reason="the Azure ML inference server is not installed in this environment")
def test_through_the_real_inference_server_hostile_bodies_are_4xx_and_it_keeps_serving(trained, tmp_path):
    port = _free_port()
    env = {**os.environ, "AZUREML_MODEL_DIR": str(trained.model_dir), "MLOPS_MAX_REQUEST_BYTES": "262144", "PYTHONUNBUFFERED": "1"}
    env.pop("SEPERATE_HEALTH_ENDPOINT", None)
    launcher = ("import sys; from azureml_inference_server_http import amlserver; "
                "amlserver.DEFAULT_HOST = '127.0.0.1'; sys.exit(amlserver.run())")
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", launcher, "--entry_script", str(ML_DIR / "score.py"),
                             "--model_dir", str(trained.model_dir), "--port", str(port), "--worker_count", "1"],
                            cwd=ML_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "server.log").read_text()[-2000:]
            time.sleep(0.3)
        status, body = _post(url + "/score", DEEP.encode())
        assert (status, "nested too deeply" in body.get("error", "")) == (400, True), body
        status, body = _post(url + "/score", b'{"data": [' + b"1," * 200_000 + b"1]}")
        assert status == 413, body
        assert _post(url + "/score", json.dumps({"data": [ROW]}).encode())[0] == 200
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
