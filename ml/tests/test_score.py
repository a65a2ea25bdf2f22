import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import score

ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
ML_DIR = Path(__file__).resolve().parents[1]


def status_and_body(response):
    """run() returns a dict (the server answers 200) or an AMLResponse (any status)."""
    if isinstance(response, dict):
        return 200, response
    return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.fixture
def served(trained, tmp_path, monkeypatch):
    # Azure ML layout: $AZUREML_MODEL_DIR/<name>/<version>/model/model.pkl
    nested = tmp_path / "diabetes" / "3" / "model"
    shutil.copytree(trained.model_dir, nested)
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))
    score.init()
    yield score
    score.model = None


def test_init_finds_the_nested_model_and_scores_a_good_request(served):
    status, body = status_and_body(served.run(json.dumps({"data": [ROW, ROW]})))
    assert status == 200
    assert len(body["predictions"]) == 2
    assert all(isinstance(p, float) for p in body["predictions"])


def test_smoke_payload_predictions_are_within_the_documented_range(served):
    smoke = json.loads((ML_DIR / "smoke.json").read_text())
    lo, hi = smoke["prediction_range"]
    status, body = status_and_body(served.run(json.dumps(smoke["payload"])))
    assert status == 200
    assert len(body["predictions"]) == len(smoke["payload"]["data"])
    assert all(lo <= p <= hi for p in body["predictions"])


BAD_REQUESTS = {
    "not json": "this is not json",
    "empty body": "",
    "not an object": json.dumps([ROW]),
    "missing data": json.dumps({"rows": [ROW]}),
    "data not a list": json.dumps({"data": "abc"}),
    "empty list": json.dumps({"data": []}),
    "too many rows": json.dumps({"data": [ROW] * 1001}),
    "short row": json.dumps({"data": [ROW[:9]]}),
    "long row": json.dumps({"data": [ROW + [1]]}),
    "row not a list": json.dumps({"data": [5]}),
    "string value": json.dumps({"data": [ROW[:9] + ["abc"]]}),
    "null value": json.dumps({"data": [ROW[:9] + [None]]}),
    "bool value": json.dumps({"data": [ROW[:9] + [True]]}),
    "NaN value": '{"data": [[1,2,3,4,5,6,7,8,9,NaN]]}',
    "Infinity value": '{"data": [[1,2,3,4,5,6,7,8,9,Infinity]]}',
}


@pytest.mark.parametrize("kind", sorted(BAD_REQUESTS))
def test_bad_request_is_a_400_with_a_message_and_the_server_keeps_working(served, kind):
    status, body = status_and_body(served.run(BAD_REQUESTS[kind]))
    assert status == 400
    assert isinstance(body["error"], str) and body["error"]
    status, body = status_and_body(served.run(json.dumps({"data": [ROW]})))
    assert status == 200 and len(body["predictions"]) == 1


def test_the_bad_value_is_located_in_the_message(served):
    _, body = status_and_body(served.run(json.dumps({"data": [ROW, ROW[:9] + ["x"]]})))
    assert body["error"].startswith("row 1, column 9 ('s6')")


def test_1000_rows_are_accepted(served):
    status, body = status_and_body(served.run(json.dumps({"data": [ROW] * 1000})))
    assert status == 200 and len(body["predictions"]) == 1000


def test_logs_never_contain_the_payload(served, caplog):
    caplog.set_level("INFO", logger="azmlinfsrv.score")
    served.run(json.dumps({"data": [[123456.789] + ROW[1:]]}))
    served.run(json.dumps({"data": [ROW[:9] + ["secret-value"]]}))
    assert caplog.records, "each request logs a line"
    assert "123456" not in caplog.text and "secret-value" not in caplog.text


def test_init_fails_clearly_without_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no model.pkl"):
        score.init()


def test_init_does_not_import_mlflow_and_works_without_the_server_package(trained, tmp_path):
    # A fresh interpreter where the azureml packages cannot be imported: the fallback AMLResponse is used.
    code = f"""
import sys, json, os
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('azureml', 'azureml_inference_server_http'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(ML_DIR)!r})
os.environ['AZUREML_MODEL_DIR'] = {trained.model_dir!r}
import score
score.init()
assert 'mlflow' not in sys.modules, 'score imported mlflow'
bad = score.run('nope')
good = score.run(json.dumps({{'data': [{ROW!r}]}}))
print(json.dumps([bad.status_code, json.loads(bad.get_data(as_text=True)), good, type(bad).__module__]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    status, body, good, module = json.loads(proc.stdout)
    assert status == 400 and "not valid JSON" in body["error"]
    assert len(good["predictions"]) == 1
    assert module == "score"
