"""Extract step: read and validate the raw diabetes data, write a seeded train/test split.

Usage (standalone, also an Azure ML pipeline step):
    python ml/extract.py --data ml/data.txt --out <dir> [--test-fraction 0.2] [--seed 42]
    python ml/extract.py --data ml/data.txt --check      # validate only, write nothing (run before the unit tests)

Writes <out>/train.csv and <out>/test.csv (same header as the input). Invalid data raises
DataValidationError; as a script it prints one line to stderr, "<file> line <n>, column '<c>': <problem>;
fix: <what to do>", and exits 2.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

FEATURES: List[str] = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
TARGET = "target"
COLUMNS: List[str] = FEATURES + [TARGET]
MIN_ROWS = 100
DEFAULT_TEST_FRACTION = 0.2
DEFAULT_SEED = 42
EXIT_DATA_ERROR = 2


class DataValidationError(ValueError):
    """The input data is not usable. The message names the file, line and column."""

    def __init__(self, path: str, problem: str, line: Optional[int] = None, column: Optional[str] = None,
                 fix: str = ""):
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix or f"edit {path} so that it is a header line {','.join(COLUMNS)} and at least {MIN_ROWS} rows of numbers"
        where = path
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ExtractResult:
    train_path: str
    test_path: str
    n_train: int
    n_test: int
    data_sha256: str


def _parse_cell(path: str, line_no: int, column: str, cell: str) -> float:
    text = cell.strip()
    if text == "":
        raise DataValidationError(path, "empty value", line_no, column,
                                  fix=f"fill in the {column} value of line {line_no} (or remove that row)")
    try:
        value = float(text)
    except ValueError:
        raise DataValidationError(path, f"{text!r} is not a number", line_no, column,
                                  fix=f"make it a number (line {line_no}, the {column} value), or remove that row") from None
    if not math.isfinite(value):
        raise DataValidationError(path, f"{text!r} is not a finite number", line_no, column,
                                  fix=f"replace it with a finite number (line {line_no}, the {column} value), or remove that row")
    return value


def read_dataset(path: "str | os.PathLike[str]", min_rows: int = MIN_ROWS) -> np.ndarray:
    """Read a comma-separated file with exactly COLUMNS as header; return an (n, 11) float array."""
    shown = str(path)
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        raise DataValidationError(shown, "file not found") from None
    except UnicodeDecodeError as ex:
        raise DataValidationError(shown, f"not UTF-8 text ({ex.reason} at byte {ex.start})") from None

    while lines and lines[-1].strip() == "":
        lines.pop()
    if not lines:
        raise DataValidationError(shown, "file is empty (expected a header line)", 1)

    header = [name.strip() for name in lines[0].split(",")]
    header_fix = f"the header must be exactly {','.join(COLUMNS)} (and every row those {len(COLUMNS)} values, in that order)"
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise DataValidationError(shown, f"missing column(s) {names} in header", 1, fix=header_fix)
    unexpected = [c for c in header if c not in COLUMNS]
    if unexpected:
        names = ", ".join(f"'{c}'" for c in unexpected)
        raise DataValidationError(shown, f"unexpected column(s) {names} in header", 1, fix=header_fix)
    if header != COLUMNS:
        raise DataValidationError(shown, f"columns must be exactly {','.join(COLUMNS)} in this order", 1, fix=header_fix)

    rows: List[List[float]] = []
    for index, text in enumerate(lines[1:], start=2):
        if text.strip() == "":
            raise DataValidationError(shown, "empty line", index, fix=f"remove the empty line {index}")
        cells = text.split(",")
        if len(cells) != len(COLUMNS):
            # a short row: the first column without a value; a long one: no column to name
            first_missing = COLUMNS[len(cells)] if len(cells) < len(COLUMNS) else None
            raise DataValidationError(
                shown, f"expected {len(COLUMNS)} columns, found {len(cells)}", index, first_missing,
                fix=f"give line {index} exactly {len(COLUMNS)} comma-separated values ({','.join(COLUMNS)}), or remove it")
        rows.append([_parse_cell(shown, index, col, cell) for col, cell in zip(COLUMNS, cells)])

    if len(rows) < min_rows:
        raise DataValidationError(shown, f"{len(rows)} data row(s), at least {min_rows} required",
                                  fix=f"add rows until there are at least {min_rows}")
    return np.asarray(rows, dtype=np.float64)


def split(data: np.ndarray, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = DEFAULT_SEED):
    """Deterministic shuffled split: the same data, fraction and seed always give the same rows."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n = data.shape[0]
    n_test = max(1, int(round(n * test_fraction)))
    if n_test >= n:
        raise ValueError(f"cannot split {n} rows with test_fraction {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    return data[order[n_test:]], data[order[:n_test]]


def write_csv(path: "str | os.PathLike[str]", data: np.ndarray) -> None:
    # repr(float) is the shortest text that reads back to the same float: the split is lossless.
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for row in data:
            handle.write(",".join(repr(float(v)) for v in row) + "\n")


def file_sha256(path: "str | os.PathLike[str]") -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extract(data_path: "str | os.PathLike[str]", out_dir: "str | os.PathLike[str]",
            test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = DEFAULT_SEED,
            min_rows: int = MIN_ROWS) -> ExtractResult:
    data = read_dataset(data_path, min_rows=min_rows)
    train, test = split(data, test_fraction, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_path, test_path = out / "train.csv", out / "test.csv"
    write_csv(train_path, train)
    write_csv(test_path, test)
    return ExtractResult(str(train_path.resolve()), str(test_path.resolve()),
                         int(train.shape[0]), int(test.shape[0]), file_sha256(data_path))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Validate the raw data and write a seeded train/test split.")
    parser.add_argument("--data", required=True, help="raw comma-separated data (e.g. ml/data.txt)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", help="output directory for train.csv and test.csv")
    mode.add_argument("--check", action="store_true", help="only validate the data (file, line, column of the first problem); write nothing")
    parser.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--min-rows", type=int, default=MIN_ROWS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.check:
            rows = read_dataset(args.data, min_rows=args.min_rows).shape[0]
            print(f"{args.data}: {rows} data rows, columns {','.join(COLUMNS)}: ok")
            return 0
        result = extract(args.data, args.out, args.test_fraction, args.seed, args.min_rows)
    except DataValidationError as ex:
        print(f"{ex}; fix: {ex.fix}", file=sys.stderr)
        return EXIT_DATA_ERROR
    print(f"extract: {result.n_train} train rows, {result.n_test} test rows -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
