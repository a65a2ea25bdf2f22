"""ml/monitor.py: drift of collected requests against the training data, and what it does with bad collected files."""
import json
import time

import numpy as np
import pytest

import monitor
import monitor_collected
from score import FEATURES

SETTINGS = {
    "thresholds": {"psi": 0.2, "ksPValue": 0.01, "predictionPsi": 0.2, "outOfRangeRate": 0.05, "errorRate": 0.05, "p99LatencyMs": 500},
    "minSamples": 200,
    "windows": 4,
}


@pytest.fixture(scope="module")
def reference(data_path):
    return monitor.read_reference(str(data_path))


def write_collected(folder, rows, version="3", when=None, predictions=None, statuses=None):
    """Files as score.py's sink writes them: one request per row."""
    folder.mkdir(parents=True, exist_ok=True)
    when = int(time.time()) if when is None else when
    with open(folder / f"{when}-1-00001.jsonl", "a", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            common = {"id": f"p{i}", "correlationid": f"c{i}", "time": when + i, "modelversion": version}
            handle.write(json.dumps({**common, "collection": "model_inputs", "data": [dict(zip(FEATURES, map(float, row)))]}) + "\n")
            pred = 150.0 if predictions is None else float(predictions[i])
            handle.write(json.dumps({**common, "collection": "model_outputs", "data": [{"prediction": pred}]}) + "\n")
            status = 200 if statuses is None else statuses[i]
            handle.write(json.dumps({**common, "collection": "mlops_requests",
                                     "data": [{"status": status, "rows": 1, "elapsed_ms": 2.0 + i % 7, "reason": None}]}) + "\n")
    return folder


def run(reference, folder, trained, version="3", since=0.0, settings=SETTINGS):
    collected = monitor_collected.read([str(folder)], version, since)
    return monitor.analyse(reference, collected, trained.model_dir, settings), collected


def model_predictions(trained, rows):
    return monitor.predict(trained.model_dir, np.asarray(rows, dtype=float))


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift(reference):
    bmi = reference[:, FEATURES.index("bmi")]
    assert monitor.psi(bmi, bmi) == pytest.approx(0.0, abs=1e-9)
    assert monitor.psi(bmi, bmi + 2) < monitor.psi(bmi, bmi + 6)
    assert monitor.psi(bmi, bmi + 6) > 0.2


def test_traffic_drawn_from_the_training_data_is_no_drift(reference, trained, tmp_path):
    rng = np.random.default_rng(1)
    rows = reference[rng.integers(0, len(reference), 600)]
    folder = write_collected(tmp_path / "c", rows, predictions=model_predictions(trained, rows))
    result, _ = run(reference, folder, trained)
    assert result["verdict"] == "no-drift", result["reasons"]
    assert result["counts"]["rows"] == 600 and result["counts"]["requests"] == 600
    assert [f["name"] for f in result["features"]] == FEATURES
    assert all(not f["drifted"] for f in result["features"]) and not result["prediction"]["drifted"]
    assert result["errors"]["rate"] == 0 and result["latencyMs"]["p99"] >= result["latencyMs"]["p50"]
    assert len(result["windows"]) == 4


def test_one_shifted_feature_is_drift_naming_that_feature(reference, trained, tmp_path):
    rng = np.random.default_rng(2)
    rows = reference[rng.integers(0, len(reference), 600)].copy()
    rows[:, FEATURES.index("bmi")] += 8.0
    folder = write_collected(tmp_path / "c", rows, predictions=model_predictions(trained, rows))
    result, _ = run(reference, folder, trained)
    assert result["verdict"] == "drift"
    drifted = [f["name"] for f in result["features"] if f["drifted"]]
    assert drifted == ["bmi"]
    assert result["reasons"][0].startswith("bmi: PSI ")


def test_fewer_rows_than_the_minimum_is_insufficient_data(reference, trained, tmp_path):
    folder = write_collected(tmp_path / "c", reference[:50])
    result, _ = run(reference, folder, trained)
    assert result["verdict"] == "insufficient-data"
    assert result["features"] == [] and "50 collected rows, at least 200" in result["reasons"][0]


def test_other_versions_and_records_before_the_window_are_left_out(reference, trained, tmp_path):
    folder = write_collected(tmp_path / "c", reference[:10], version="2")
    write_collected(folder / "older", reference[:10], version="3", when=1000)
    write_collected(folder / "now", reference[:5], version="3")
    result, collected = run(reference, folder, trained, since=2000)
    assert result["counts"]["rows"] == 5
    assert collected.other_versions == 30 and collected.before_window == 30


def test_truncated_and_wrong_schema_files_are_skipped_with_a_count_and_a_warning_naming_the_file(reference, trained, tmp_path):
    folder = write_collected(tmp_path / "c", reference[:5])
    good = next(folder.glob("*.jsonl"))
    with open(good, "a", encoding="utf-8") as handle:
        handle.write('{"collection": "model_inputs", "time": 17')  # a half-written last line
    other = folder / "after-a-score-change.jsonl"
    other.write_text(json.dumps({"collection": "model_inputs", "time": 1, "modelversion": "3", "data": [{"x": 1}]}) + "\n"
                     + "not json at all\n")
    result, collected = run(reference, folder, trained)
    assert result["counts"]["rows"] == 5
    assert collected.bad_lines == 3
    assert {(s["file"], s["badLines"]) for s in collected.skipped} == {(str(good), 1), (str(other), 2)}
    assert any(str(other) in w for w in collected.warnings) and any(str(good) in w for w in collected.warnings)


def test_every_line_json_loads_would_reject_is_a_bad_line_and_nothing_raises(reference, trained, tmp_path):
    folder = write_collected(tmp_path / "c", reference[:3])
    row = dict(zip(FEATURES, map(float, reference[0])))
    good = {"collection": "model_inputs", "time": int(time.time()), "modelversion": "3", "data": [row]}
    lines = [
        "  " + json.dumps(good) + " \t",  # JSON whitespace around one value: a good line
        json.dumps(good) + ", 1",  # two values
        json.dumps(good) + " x",  # trailing garbage
        json.dumps({**good, "data": [{**row, "age": True}]}),  # true is not a number
        json.dumps({**good, "data": [{**row, "age": "59"}]}),  # nor is a string
        json.dumps({**good, "data": [{k: v for k, v in row.items() if k != "bmi"}]}),  # a feature missing
        json.dumps({**good, "data": [[1, 2]]}),  # a row that is not an object
        "[" * 100_000 + "]" * 100_000,  # nested past the recursion limit
    ]
    (folder / "edge.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "latin1.jsonl").write_bytes(json.dumps(good).encode() + b"\n" + b'{"collection": "caf\xe9"}\n')
    _, collected = run(reference, folder, trained)
    assert len(collected.inputs) == 3 + 1 + 1
    assert {(s["file"].rsplit("/", 1)[-1], s["badLines"]) for s in collected.skipped} == {("edge.jsonl", 7), ("latin1.jsonl", 1)}


def test_rejected_requests_count_as_errors_and_quality_problems(reference, trained, tmp_path):
    rows = reference[:300]
    statuses = [200] * 270 + [400] * 30
    folder = write_collected(tmp_path / "c", rows, statuses=statuses)
    with open(next(folder.glob("*.jsonl")), "a", encoding="utf-8") as handle:
        for i, reason in enumerate(["missing", "missing", "not_a_number"]):
            handle.write(json.dumps({"collection": "mlops_requests", "id": f"r{i}", "correlationid": "", "time": int(time.time()),
                                     "modelversion": "3", "data": [{"status": 400, "rows": 0, "elapsed_ms": 0.3, "reason": reason}]}) + "\n")
    result, _ = run(reference, folder, trained)
    assert result["errors"]["rejected"] == 33 and result["errors"]["rate"] == pytest.approx(33 / 303, abs=1e-6)
    assert result["quality"]["missing"] == 2 and result["quality"]["wrongType"] == 1
    assert any(a.startswith("error rate") for a in result["alerts"])


def test_values_outside_the_training_range_are_counted(reference, trained, tmp_path):
    rows = reference[:300].copy()
    rows[:30, FEATURES.index("age")] = 200
    folder = write_collected(tmp_path / "c", rows)
    result, _ = run(reference, folder, trained)
    assert result["quality"]["outOfRangeRows"] == 30
    age = next(f for f in result["features"] if f["name"] == "age")
    assert age["outOfRange"] == 30


def test_the_command_writes_json_and_refuses_an_unreadable_reference(reference, trained, tmp_path, capsys):
    folder = write_collected(tmp_path / "c", reference[:20])
    out = tmp_path / "out.json"
    args = ["--collected", str(folder), "--model-dir", trained.model_dir, "--model-version", "3",
            "--settings", json.dumps(SETTINGS), "--out", str(out)]
    assert monitor.main(["--reference", str(tmp_path / "missing.csv")] + args) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert not out.exists()
    from conftest import DATA
    assert monitor.main(["--reference", str(DATA)] + args) == 0
    assert json.loads(out.read_text())["verdict"] == "insufficient-data"
