import filecmp

import numpy as np
import pytest

import extract
from extract import DataValidationError


def test_real_data_has_442_rows_and_the_expected_columns(data_path):
    data = extract.read_dataset(data_path)
    assert data.shape == (442, 11)
    assert data_path.read_text().splitlines()[0] == "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,target"
    assert np.isfinite(data).all()


def test_extract_writes_an_80_20_split_that_adds_up_to_the_data(data_path, tmp_path):
    result = extract.extract(data_path, tmp_path)
    assert (result.n_train, result.n_test) == (354, 88)
    train = extract.read_dataset(result.train_path, min_rows=1)
    test = extract.read_dataset(result.test_path, min_rows=1)
    both = np.vstack([train, test])
    original = extract.read_dataset(data_path)
    # Lossless: the same rows, only reordered.
    assert np.array_equal(both[np.lexsort(both.T)], original[np.lexsort(original.T)])


def test_split_is_deterministic_for_the_same_seed_and_differs_for_another(data_path, tmp_path):
    extract.extract(data_path, tmp_path / "a", seed=7)
    extract.extract(data_path, tmp_path / "b", seed=7)
    extract.extract(data_path, tmp_path / "c", seed=8)
    assert filecmp.cmp(tmp_path / "a" / "train.csv", tmp_path / "b" / "train.csv", shallow=False)
    assert filecmp.cmp(tmp_path / "a" / "test.csv", tmp_path / "b" / "test.csv", shallow=False)
    assert not filecmp.cmp(tmp_path / "a" / "test.csv", tmp_path / "c" / "test.csv", shallow=False)


def _error(path, **kwargs) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        extract.read_dataset(path, **kwargs)
    return info.value


def test_non_numeric_value_names_file_line_and_column(fixtures):
    path = fixtures / "non_numeric.txt"
    err = _error(path, min_rows=1)
    assert str(err) == f"{path} line 17, column 'bmi': 'abc' is not a number"
    assert (err.line, err.column) == (17, "bmi")


def test_nan_value_is_rejected_with_line_and_column(fixtures):
    err = _error(fixtures / "nan_value.txt", min_rows=1)
    assert (err.line, err.column) == (9, "s1")
    assert "'NaN' is not a finite number" in str(err)


def test_empty_cell_is_rejected_with_line_and_column(fixtures):
    err = _error(fixtures / "empty_cell.txt", min_rows=1)
    assert (err.line, err.column) == (5, "target")
    assert "empty value" in str(err)


def test_missing_column_is_named(fixtures):
    err = _error(fixtures / "missing_column.txt", min_rows=1)
    assert err.line == 1
    assert "missing column(s) 'bmi'" in str(err)


def test_wrong_column_count_names_the_line(fixtures):
    err = _error(fixtures / "wrong_column_count.txt", min_rows=1)
    assert err.line == 12
    assert "expected 11 columns, found 10" in str(err)


@pytest.mark.parametrize("name", ["empty.txt", "header_only.txt", "too_few_rows.txt"])
def test_empty_or_too_small_files_are_rejected(fixtures, name):
    err = _error(fixtures / name)
    assert str(err).startswith(str(fixtures / name))
    assert "empty" in str(err) or "at least 100 required" in str(err)


def test_missing_file_is_a_data_error(tmp_path):
    assert "file not found" in str(_error(tmp_path / "nope.txt"))


def test_script_prints_one_line_and_exits_2_on_bad_data(fixtures, tmp_path, capsys):
    code = extract.main(["--data", str(fixtures / "non_numeric.txt"), "--out", str(tmp_path), "--min-rows", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "line 17, column 'bmi'" in err


def test_script_exits_0_and_writes_the_split(data_path, tmp_path):
    assert extract.main(["--data", str(data_path), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "train.csv").exists() and (tmp_path / "test.csv").exists()
