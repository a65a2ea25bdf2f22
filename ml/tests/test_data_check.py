"""The data check run before the unit tests (`python ml/extract.py --check --data ml/data.txt`): a malformed data
file is one line naming the file, line and column and what to fix, exit 2, nothing written; good data passes."""
import pytest

import extract

GOOD_ROW = "59,2,32.1,101,157,93.2,38,4,4.8598,87,151"
HEADER = ",".join(extract.COLUMNS)


def _write(tmp_path, lines):
    path = tmp_path / "data.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check(path, capsys, *extra):
    code = extract.main(["--check", "--data", str(path), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "lines, where, fix",
    [
        ([HEADER, GOOD_ROW, "48,1,abc,87,183,103.2,70,3,3.8918,69,75"], "line 3, column 'bmi': 'abc' is not a number", "make it a number"),
        ([HEADER, GOOD_ROW, "48,1,21.6,87,183,103.2,70,3,3.8918,69"], "line 3, column 'target': expected 11 columns, found 10", "11 comma-separated"),
        ([HEADER.replace(",bp", ""), GOOD_ROW], "line 1: missing column(s) 'bp' in header", "header must be"),
        ([HEADER, GOOD_ROW, "48,1,21.6,87,,103.2,70,3,3.8918,69,75"], "line 3, column 's1': empty value", "fill in"),
    ],
    ids=["a non-number", "a short row", "a missing column", "an empty value"],
)
def test_a_malformed_file_is_one_line_naming_file_line_column_and_the_fix(tmp_path, capsys, lines, where, fix):
    path = _write(tmp_path, lines)
    code, out, err = _check(path, capsys, "--min-rows", "1")
    assert code == extract.EXIT_DATA_ERROR
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"{path} {where}; fix: ")
    assert fix in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]


def test_the_real_data_passes_the_check_and_nothing_is_written(data_path, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _check(data_path, capsys)
    assert code == 0, err
    assert out.strip() == f"{data_path}: 442 data rows, columns {','.join(extract.COLUMNS)}: ok"
    assert list(tmp_path.iterdir()) == []


def test_check_and_out_are_exclusive_and_one_is_required(data_path, tmp_path):
    with pytest.raises(SystemExit):
        extract.main(["--data", str(data_path)])
    with pytest.raises(SystemExit):
        extract.main(["--check", "--data", str(data_path), "--out", str(tmp_path)])
