"""Per-epoch metrics files: metrics.json (nested, as recorded) and metrics.csv (flat).

A row of the history is a dict of numbers and strings, plus `grad_rms` (a dict: synapse name
-> mean gradient RMS) and `grad_warnings` (a list of lines). In the CSV a nested dict becomes
one column per key (`grad_rms.stem_conv`) and a list one cell joined with "; ".
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..atomic import write_text

METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"


def flat_row(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flat_row(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            flat[f"{prefix}{key}"] = "; ".join(map(str, value))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def metrics_csv(history: list[dict]) -> str:
    rows = [flat_row(row) for row in history]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    write_text(run_dir / METRICS_JSON, json.dumps(history, indent=2))
    write_text(run_dir / METRICS_CSV, metrics_csv(history))
