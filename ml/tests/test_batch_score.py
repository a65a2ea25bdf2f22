import csv
import json
import shutil
from pathlib import Path

import pytest

import batch_score
import score

FEATURES = ",".join(score.FEATURES)
ROW = "59,2,32.1,101,157,93.2,38,4,4.8598,87"
ROW_VALUES = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]


@pytest.fixture
def model_dir(trained, tmp_path):
    nested = tmp_path / "model-root" / "diabetes" / "1" / "model"
    shutil.copytree(trained.model_dir, nested)
    return tmp_path / "model-root"


@pytest.fixture
def loaded(model_dir, monkeypatch):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    batch_score.init()
    yield batch_score
    score.model = None


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def run_main(model_dir, tmp_path, text, name="in.csv", capsys=None):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    out, err = tmp_path / "out.csv", tmp_path / "out.csv.errors.csv"
    code = batch_score.main(["--model-dir", str(model_dir), "--input", str(src), "--output", str(out), "--errors", str(err)])
    return code, out, err


def test_batch_predictions_equal_score_run_on_the_same_rows(loaded, data_path, tmp_path):
    # data.txt carries a target column: it is ignored, the features are mapped by name
    out, err = tmp_path / "o.csv", tmp_path / "e.csv"
    summary = batch_score.score_files([str(data_path)], str(out), str(err), "", report=lambda e: None)
    rows = read_csv(out)
    assert rows[0] == ["file", "row", "prediction"]
    assert summary.rows == summary.scored == 442 and summary.failed == 0
    with open(data_path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()[1:]
    features = [[float(v) for v in line.split(",")[:10]] for line in lines]
    online = []
    for start in range(0, len(features), 1000):
        online += score.run(json.dumps({"data": features[start:start + 1000]}))["predictions"]
    assert [float(r[2]) for r in rows[1:]] == online
    assert [int(r[1]) for r in rows[1:]] == list(range(1, 443))


def test_every_bad_row_is_counted_with_its_row_number_and_column_and_never_scored(model_dir, tmp_path, capsys):
    text = "\n".join([
        FEATURES,
        ROW,                                   # 1 ok
        "59,2,32.1,101,157,93.2,38,4,4.8598",  # 2 nine values
        ROW.replace("32.1", "abc"),           # 3 non-number
        ROW.replace("101", "nan"),            # 4 NaN
        ROW.replace("157", "inf"),            # 5 inf
        ROW.replace("38", ""),                # 6 empty value
        "",                                    # 7 empty row
        ROW + ",1",                            # 8 eleven values
        ROW,                                   # 9 ok
    ]) + "\n"
    code, out, err = run_main(model_dir, tmp_path, text, capsys=capsys)
    assert code == 0
    scored = read_csv(out)[1:]
    assert [r[1] for r in scored] == ["1", "9"]
    errors = read_csv(err)
    assert errors[0] == ["file", "row", "column", "reason"]
    by_row = {int(r[1]): (r[2], r[3]) for r in errors[1:]}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8]
    assert by_row[2] == ("", "expected 10 values, found 9")
    assert by_row[3] == ("bmi", "'abc' is not a number")
    assert by_row[4] == ("bp", "'nan' is not a finite number")
    assert by_row[5] == ("s1", "'inf' is not a finite number")
    assert by_row[6] == ("s3", "empty value")
    assert by_row[7] == ("", "empty row")
    assert by_row[8] == ("", "expected 10 values, found 11")
    done = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.startswith("{")][-1]
    assert done["event"] == "done" and done["rows"] == 9 and done["scored"] == 2 and done["failed"] == 7
    assert done["failureKinds"] == {"column_count": 2, "not_a_number": 1, "not_finite": 2, "empty_value": 1, "empty_row": 1}


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    (FEATURES + "\n", "no data rows"),
    (FEATURES.replace("bmi", "bmx") + "\n" + ROW + "\n", "missing 'bmi'; unexpected 'bmx'"),
    ("age,sex\n1,2\n", "missing 'bmi'"),
])
def test_an_empty_file_or_a_header_that_is_not_the_training_columns_exits_2_with_nothing_written(model_dir, tmp_path, capsys, text, expected):
    code, out, err = run_main(model_dir, tmp_path, text, capsys=capsys)
    assert code == 2
    assert expected in capsys.readouterr().err
    assert not out.exists() and not err.exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_columns_in_another_order_are_mapped_by_name(loaded, tmp_path):
    names = list(reversed(score.FEATURES))
    src = tmp_path / "rev.csv"
    src.write_text(",".join(names) + "\n" + ",".join(str(v) for v in reversed(ROW_VALUES)) + "\n")
    lines = batch_score.run([str(src)])
    expected = score.run({"data": [ROW_VALUES]})["predictions"][0]
    assert lines == [f"rev.csv,1,{expected!r},"]


def test_azure_run_returns_one_line_per_row_with_errors_and_a_line_for_an_unusable_file(loaded, tmp_path):
    good = tmp_path / "a.csv"
    good.write_text(FEATURES + "\n" + ROW + "\n" + ROW.replace("4.8598", "x") + "\n")
    bad = tmp_path / "b.csv"
    bad.write_text("")
    lines = batch_score.run([str(good), str(bad)])
    assert len(lines) == 3
    assert lines[0].startswith("a.csv,1,") and lines[0].endswith(",")
    assert lines[1] == "a.csv,2,,s5: 'x' is not a number"
    assert next(csv.reader([lines[2]]))[:3] == ["b.csv", "0", ""]
    assert next(csv.reader([lines[2]]))[3].startswith("b.csv: the file is empty")


def test_parquet_input_scores_like_csv(loaded, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    columns = {name: [float(v), float("nan")] for name, v in zip(score.FEATURES, ROW_VALUES)}
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table(columns), path)
    lines = batch_score.run([str(path)])
    expected = score.run({"data": [ROW_VALUES]})["predictions"][0]
    assert lines[0] == f"rows.parquet,1,{expected!r},"
    assert lines[1] == "rows.parquet,2,,age: nan is not a finite number"


def test_a_folder_is_scored_file_by_file_and_the_output_names_each_file(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text(FEATURES + "\n" + ROW + "\n")
    (folder / "sub" / "b.csv").write_text(FEATURES + "\n" + ROW + "\n" + ROW + "\n")
    (folder / "notes.txt").write_text("ignored")
    out, err = tmp_path / "o.csv", tmp_path / "e.csv"
    code = batch_score.main(["--model-dir", str(model_dir), "--input", str(folder), "--output", str(out), "--errors", str(err)])
    assert code == 0
    assert [r[:2] for r in read_csv(out)[1:]] == [["a.csv", "1"], ["sub/b.csv", "1"], ["sub/b.csv", "2"]]


def test_the_columns_batch_scoring_expects_are_the_training_columns(data_path):
    import extract

    with open(data_path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    assert batch_score.FEATURES == extract.FEATURES == [c for c in header if c != extract.TARGET]
