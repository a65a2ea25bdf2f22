"""Batch scoring with score.py's own init()/run(): the same model loading and prediction code as the online
endpoint, so batch and online cannot disagree.

Two entry points:
    Azure ML batch deployment   init() once, then run(mini_batch) with a list of file paths (MS Learn, "Author
                                scoring scripts for batch deployments"); run() returns one CSV line per input row,
                                "file,row,prediction,error", which the deployment appends to its output file.
    Local (mlops score-batch)   python ml/batch_score.py --model-dir D --input F [--input F ...] --output O
                                --errors E: streams each file in chunks of score.MAX_ROWS rows, writes the scored
                                rows to O and the rejected rows to E (file,row,column,reason), each through a temp
                                file renamed when complete; progress as JSON lines on stdout.

Input: CSV (header line) or Parquet files whose columns are exactly the training features (extract.FEATURES, in
any order; a `target` column is allowed and ignored). Rows are numbered from 1 after the header. A row with the
wrong number of values, an empty value, a non-number, NaN or infinity is rejected with its row number and column
and never scored; the other rows are. A file that is empty, unreadable or has another header stops the run
(exit 2, one line on stderr) before anything is written.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import score  # noqa: E402  (the online scoring script: init(), run(), FEATURES, MAX_ROWS)

FEATURES: List[str] = list(score.FEATURES)
IGNORED_COLUMNS = ("target",)
CHUNK_ROWS = score.MAX_ROWS
EXIT_BAD_INPUT = 2
OUTPUT_HEADER = ["file", "row", "prediction"]
ERRORS_HEADER = ["file", "row", "column", "reason"]
SUPPORTED_SUFFIXES = (".csv", ".parquet")


class BatchInputError(ValueError):
    """A whole input is unusable (missing, empty, unreadable, wrong header). The message names the file."""


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Summary:
    files: int = 0
    rows: int = 0
    scored: int = 0
    failed: int = 0
    seconds: float = 0.0
    reasons: Dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return {"files": self.files, "rows": self.rows, "scored": self.scored, "failed": self.failed,
                "seconds": round(self.seconds, 3), "rowsPerSecond": round(rate, 1), "failureKinds": self.reasons}


# ---------------------------------------------------------------------------------------------------- reading

def parse_value(value: Any) -> Tuple[Optional[float], Optional[str]]:
    """A cell as a finite float, or (None, reason). Strings are parsed; bools and blanks are rejected."""
    if value is None:
        return None, "empty value"
    if isinstance(value, bool):
        return None, f"{value!r} is not a number"
    if isinstance(value, (int, float)):
        number = float(value)
        shown = repr(value)
    else:
        text = str(value).strip()
        if text == "":
            return None, "empty value"
        shown = repr(text[:40])
        try:
            number = float(text)
        except ValueError:
            return None, f"{shown} is not a number"
    if not math.isfinite(number):
        return None, f"{shown} is not a finite number"
    return number, None


def column_order(header: Sequence[str], shown: str) -> List[int]:
    """Index of each feature in the file's header; BatchInputError when the header is not the training columns."""
    names = [str(h).strip() for h in header]
    if len(names) and names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    missing = [c for c in FEATURES if c not in names]
    unexpected = [c for c in names if c not in FEATURES and c not in IGNORED_COLUMNS]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    problems = []
    if missing:
        problems.append("missing " + ", ".join(f"'{c}'" for c in missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(f"'{c}'" for c in unexpected[:5]))
    if duplicated:
        problems.append("duplicated " + ", ".join(f"'{c}'" for c in duplicated))
    if problems:
        raise BatchInputError(f"{shown}: the header does not match the training columns ({'; '.join(problems)}); "
                              f"expected {','.join(FEATURES)} (a 'target' column is ignored)")
    return [names.index(c) for c in FEATURES]


def parse_row(row_no: int, cells: Sequence[Any], order: List[int], width: int) -> Tuple[Optional[List[float]], Optional[RowError]]:
    if len(cells) == 0 or (len(cells) == 1 and str(cells[0]).strip() == "" and width > 1):
        return None, RowError(row_no, "", "empty row")
    if len(cells) != width:
        return None, RowError(row_no, "", f"expected {width} values, found {len(cells)}")
    values: List[float] = []
    for feature, index in zip(FEATURES, order):
        number, reason = parse_value(cells[index])
        if reason is not None:
            return None, RowError(row_no, feature, reason)
        values.append(number)  # type: ignore[arg-type]
    return values, None


Parsed = Tuple[int, Optional[List[float]], Optional[RowError]]


class CsvInput:
    def __init__(self, path: str):
        self.path = path
        self.size = os.path.getsize(path)
        self.handle = open(path, "r", encoding="utf-8-sig", newline="")
        self.reader = csv.reader(self.handle)
        try:
            header = next(self.reader, None)
        except (UnicodeDecodeError, csv.Error) as ex:
            self.close()
            raise BatchInputError(f"{path}: not a readable UTF-8 CSV file ({ex})") from None
        if header is None or all(str(h).strip() == "" for h in header):
            self.close()
            raise BatchInputError(f"{path}: the file is empty (expected a header line: {','.join(FEATURES)})")
        self.width = len(header)
        self.order = column_order(header, path)

    def position(self) -> int:
        try:
            return self.handle.buffer.tell() if hasattr(self.handle, "buffer") else 0
        except (OSError, ValueError):
            return 0

    def rows(self) -> Iterator[Parsed]:
        row_no = 0
        while True:
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except UnicodeDecodeError as ex:
                raise BatchInputError(f"{self.path}: not UTF-8 text after row {row_no} ({ex.reason})") from None
            except csv.Error as ex:
                row_no += 1
                yield row_no, None, RowError(row_no, "", f"unreadable CSV: {ex}")
                continue
            row_no += 1
            values, error = parse_row(row_no, cells, self.order, self.width)
            yield row_no, values, error

    def close(self) -> None:
        self.handle.close()


class ParquetInput:
    def __init__(self, path: str):
        try:
            import pyarrow.parquet as pq  # present through MLflow in ml/conda.yml's environment
        except ImportError:
            raise BatchInputError(f"{path}: reading Parquet needs pyarrow, which this Python environment lacks; "
                                  "convert the file to CSV") from None
        self.path = path
        self.size = os.path.getsize(path)
        self.done_bytes = 0
        try:
            self.file = pq.ParquetFile(path)
        except Exception as ex:  # pyarrow raises several types for a damaged file
            raise BatchInputError(f"{path}: not a readable Parquet file ({str(ex).splitlines()[0][:120]})") from None
        names = list(self.file.schema_arrow.names)
        if not names:
            raise BatchInputError(f"{path}: the file has no columns (expected {','.join(FEATURES)})")
        self.width = len(names)
        self.order = column_order(names, path)
        self.columns = [names[i] for i in self.order]
        if self.file.metadata.num_rows == 0:
            raise BatchInputError(f"{path}: the file has no rows")

    def position(self) -> int:
        return self.done_bytes

    def rows(self) -> Iterator[Parsed]:
        row_no = 0
        total_rows = max(1, self.file.metadata.num_rows)
        for batch in self.file.iter_batches(batch_size=CHUNK_ROWS, columns=self.columns):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for cells in zip(*columns):
                row_no += 1
                values, error = parse_row(row_no, list(cells), list(range(len(FEATURES))), len(FEATURES))
                yield row_no, values, error
            self.done_bytes = int(self.size * row_no / total_rows)

    def close(self) -> None:
        pass


def open_input(path: str):
    if not os.path.isfile(path):
        raise BatchInputError(f"{path}: no such file")
    if path.lower().endswith(".parquet"):
        return ParquetInput(path)
    return CsvInput(path)


def list_inputs(path: str) -> List[str]:
    """A file, or the .csv/.parquet files under a folder (sorted, recursive)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise BatchInputError(f"{path}: no such file or folder")
    found = []
    for directory, dirs, files in os.walk(path):
        dirs.sort()
        found.extend(os.path.join(directory, f) for f in sorted(files) if f.lower().endswith(SUPPORTED_SUFFIXES))
    if not found:
        raise BatchInputError(f"{path}: the folder holds no .csv or .parquet file")
    return found


# ---------------------------------------------------------------------------------------------------- scoring

def predict_chunk(rows: List[List[float]]) -> Tuple[Optional[List[float]], Optional[str]]:
    """score.run() on one chunk, exactly as the online endpoint calls it; (predictions, None) or (None, reason)."""
    result = score.run({"data": rows})
    if not isinstance(result, dict):
        body = result.get_data(as_text=True) if hasattr(result, "get_data") else str(result)
        try:
            reason = json.loads(body).get("error", body)
        except (ValueError, AttributeError):
            reason = body
        return None, f"score.run rejected the chunk: {reason}"
    predictions = result.get("predictions")
    if not isinstance(predictions, list) or len(predictions) != len(rows):
        return None, f"score.run returned {len(predictions) if isinstance(predictions, list) else 'no'} predictions for {len(rows)} rows"
    return [float(p) for p in predictions], None


def score_stream(rows: Iterable[Parsed],
                 on_scored: Callable[[int, float], None],
                 on_failed: Callable[[RowError], None],
                 on_chunk: Callable[[], None] = lambda: None) -> None:
    """Scores the valid rows in chunks of CHUNK_ROWS; every row ends in exactly one of on_scored / on_failed."""
    numbers: List[int] = []
    chunk: List[List[float]] = []

    def flush() -> None:
        if not chunk:
            return
        predictions, reason = predict_chunk(chunk)
        for i, row_no in enumerate(numbers):
            if predictions is None:
                on_failed(RowError(row_no, "", reason or "not scored"))
            elif not math.isfinite(predictions[i]):
                on_failed(RowError(row_no, "", f"the model returned {predictions[i]!r}"))
            else:
                on_scored(row_no, predictions[i])
        numbers.clear()
        chunk.clear()
        on_chunk()

    for row_no, values, error in rows:
        if error is not None:
            on_failed(error)
            continue
        numbers.append(row_no)
        chunk.append(values)  # type: ignore[arg-type]
        if len(chunk) >= CHUNK_ROWS:
            flush()
    flush()


def failure_kind(reason: str) -> str:
    for marker, kind in (("not a finite", "not_finite"), ("not a number", "not_a_number"), ("empty value", "empty_value"),
                         ("empty row", "empty_row"), ("values, found", "column_count"), ("unreadable", "unreadable"),
                         ("score.run", "rejected"), ("model returned", "non_finite_prediction")):
        if marker in reason:
            return kind
    return "other"


# ---------------------------------------------------------------------------------------------------- Azure ML batch deployment

def init() -> None:
    """Azure ML batch deployment: loads the model once per worker, with score.py's own init()."""
    score.init()


def run(mini_batch: List[str]) -> List[str]:
    """Azure ML batch deployment: one CSV line "file,row,prediction,error" per input row of every file in mini_batch.
    A rejected row carries its reason and no prediction; an unusable file gives one line with row 0."""
    lines: List[str] = []

    def line(file_name: str, row: int, prediction: str, error: str) -> str:
        out = _CsvLine()
        csv.writer(out, lineterminator="").writerow([file_name, row, prediction, error])
        return out.text

    for path in mini_batch:
        name = os.path.basename(path)
        try:
            source = open_input(path)
        except BatchInputError as ex:
            lines.append(line(name, 0, "", str(ex).replace(path, name)))
            continue
        file_lines: List[Tuple[int, str]] = []
        try:
            score_stream(source.rows(),
                         lambda row, p: file_lines.append((row, line(name, row, repr(p), ""))),
                         lambda e: file_lines.append((e.row, line(name, e.row, "", f"{e.column}: {e.reason}" if e.column else e.reason))))
        except BatchInputError as ex:
            file_lines.append((0, line(name, 0, "", str(ex).replace(path, name))))
        finally:
            source.close()
        lines.extend(text for _, text in sorted(file_lines, key=lambda item: item[0]))
    return lines


class _CsvLine:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)


# ---------------------------------------------------------------------------------------------------- local command

def emit(event: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def score_files(inputs: List[str], output: str, errors: str, shown_root: str,
                progress_every_s: float = 0.5, report: Callable[[Dict[str, Any]], None] = emit) -> Summary:
    """Scores every input file into `output` and `errors`, each written to a temp file and renamed when complete."""
    # Every header is checked before anything is scored: a bad file stops the run with nothing written.
    sources = []
    try:
        for path in inputs:
            sources.append(open_input(path))
    except BatchInputError:
        for s in sources:
            s.close()
        raise
    total_bytes = sum(s.size for s in sources)
    summary = Summary(files=len(sources))
    started = time.perf_counter()
    tmp_out, tmp_err = f"{output}.partial-{os.getpid()}", f"{errors}.partial-{os.getpid()}"
    done_bytes = 0
    last_report = 0.0
    try:
        with open(tmp_out, "w", encoding="utf-8", newline="") as out_handle, \
                open(tmp_err, "w", encoding="utf-8", newline="") as err_handle:
            out_csv, err_csv = csv.writer(out_handle, lineterminator="\n"), csv.writer(err_handle, lineterminator="\n")
            out_csv.writerow(OUTPUT_HEADER)
            err_csv.writerow(ERRORS_HEADER)
            for source in sources:
                name = os.path.relpath(source.path, shown_root) if shown_root else os.path.basename(source.path)

                def scored(row: int, prediction: float) -> None:
                    summary.rows += 1
                    summary.scored += 1
                    out_csv.writerow([name, row, repr(prediction)])

                def failed(e: RowError) -> None:
                    summary.rows += 1
                    summary.failed += 1
                    kind = failure_kind(e.reason)
                    summary.reasons[kind] = summary.reasons.get(kind, 0) + 1
                    err_csv.writerow([name, e.row, e.column, e.reason])

                def chunk_done() -> None:
                    nonlocal last_report
                    now = time.perf_counter()
                    if now - last_report >= progress_every_s:
                        last_report = now
                        report({"event": "progress", "rows": summary.rows, "scored": summary.scored,
                                "failed": summary.failed, "bytes": done_bytes + source.position(),
                                "totalBytes": total_bytes, "seconds": round(now - started, 3)})

                try:
                    score_stream(source.rows(), scored, failed, chunk_done)
                finally:
                    done_bytes += source.size
                    source.close()
            out_handle.flush()
            os.fsync(out_handle.fileno())
            err_handle.flush()
            os.fsync(err_handle.fileno())
        summary.seconds = time.perf_counter() - started
        if summary.rows == 0:
            raise BatchInputError(f"{', '.join(inputs)}: no data rows after the header")
        os.replace(tmp_out, output)
        os.replace(tmp_err, errors)
    finally:
        for tmp in (tmp_out, tmp_err):
            if os.path.exists(tmp):
                os.remove(tmp)
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Score CSV/Parquet feature rows with score.py's init()/run().")
    parser.add_argument("--model-dir", required=True, help="the model version's directory (becomes AZUREML_MODEL_DIR)")
    parser.add_argument("--input", required=True, help="a .csv/.parquet file or a folder of them")
    parser.add_argument("--output", required=True, help="the scored rows: file,row,prediction")
    parser.add_argument("--errors", required=True, help="the rejected rows: file,row,column,reason")
    parser.add_argument("--progress-every", type=float, default=0.5, help="seconds between progress lines")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        inputs = list_inputs(args.input)
        os.environ["AZUREML_MODEL_DIR"] = args.model_dir
        init()
        root = args.input if os.path.isdir(args.input) else ""
        summary = score_files(inputs, args.output, args.errors, root, args.progress_every)
    except BatchInputError as ex:
        emit({"event": "error", "kind": "bad-input", "message": str(ex)})
        print(str(ex), file=sys.stderr)
        return EXIT_BAD_INPUT
    emit({"event": "done", **summary.as_dict()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
