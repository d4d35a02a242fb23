"""``interview-mil bags-cv`` on a generated table and (when present) on Musk1."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from interview_mil.cli.main import main
from interview_mil.mil import InterviewClassifier
from interview_mil.mil.table import bags_from_table

FAST = ["--hidden", "16", "--max-epochs", "15", "--batch-size", "16", "--lr", "0.005", "--quiet"]


def _table(path, seed=0, n_bags=24):
    """Instances with a bag label and a perfectly predictive instance_label (which must never be used)."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_bags):
        label = b % 2
        for _ in range(int(rng.integers(3, 7))):
            rows.append(
                {
                    "bag_id": f"b{b}",
                    "bag_label": label,
                    "instance_label": label,
                    "subject": f"s{b // 2}",
                    "note": "x",
                    "f1": rng.normal(),
                    "f2": rng.normal(),
                    "f3": rng.normal(),
                }
            )
    df = pd.DataFrame(rows)
    if str(path).endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return df


@pytest.mark.parametrize("name", ["inst.csv.gz", "inst.parquet"])
def test_bags_cv_writes_the_result_json_and_never_uses_instance_label(tmp_path, capsys, name):
    table = tmp_path / name
    _table(table)
    out = tmp_path / "result.json"
    code = main(
        ["bags-cv", str(table), "--group-col", "subject", "--folds", "2", "--repeats", "2", "--out", str(out), *FAST]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "bag accuracy" in captured.out and "±" in captured.out
    assert "instance_label" in captured.err  # says it left the column out
    result = json.loads(out.read_text())
    for key in ("accuracy_mean", "accuracy_se", "auc_mean", "auc_se"):
        assert key in result
    assert 0 <= result["accuracy_mean"] <= 1
    settings = result["settings"]
    assert settings["features"] == ["f1", "f2", "f3"]
    assert "instance_label" in settings["excluded_columns"] and "note" in settings["excluded_columns"]
    assert settings["folds"] == 2 and settings["repeats"] == 2 and settings["params"]["pooling"] == "attention"
    defaults = InterviewClassifier().get_params()
    for key in ("refit", "dropout", "weight_decay", "patience"):
        assert settings["params"][key] == defaults[key]  # the architecture and optimiser are the classifier's
    # trained as the classic-benchmark setting: a committee of five on all training bags (epochs set here)
    assert settings["params"]["val_fraction"] == 0.0 and settings["params"]["n_models"] == 5
    assert len(result["folds"]) == 4


def test_bags_from_table_refuses_instance_label_as_a_feature_and_names_missing_columns(tmp_path):
    table = tmp_path / "inst.csv"
    _table(table)
    tb = bags_from_table(table, features=["f1", "f2"])
    assert len(tb.bags) == 24 and tb.bags[0].shape[1] == 2 and tb.bag_ids[0] == "b0"
    with pytest.raises(Exception, match="instance labels"):
        bags_from_table(table, features=["f1", "instance_label"])
    with pytest.raises(Exception, match="inst.csv"):
        bags_from_table(table, label_col="label")


def test_bags_cv_missing_column_is_a_clear_error(tmp_path, capsys):
    table = tmp_path / "inst.csv"
    _table(table)
    code = main(["bags-cv", str(table), "--label-col", "nope", "--folds", "2", "--repeats", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "inst.csv" in err and "nope" in err


def test_bags_cv_on_musk1_two_folds_one_repeat(tmp_path, capsys):
    table = shared_path("mil-benchmarks", "musk1_normalized.csv")
    out = tmp_path / "musk1.json"
    # the classic-benchmark setting (E+noval25+ens5) with a committee of 2 to stay quick: 25 epochs on
    # all training bags, no validation split
    code = main(
        [
            "bags-cv",
            str(table),
            "--folds",
            "2",
            "--repeats",
            "1",
            "--val-fraction",
            "0",
            "--max-epochs",
            "25",
            "--n-models",
            "2",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["settings"]["n_bags"] == 92 and len(result["settings"]["features"]) == 166
    params = result["settings"]["params"]
    assert params["val_fraction"] == 0.0 and params["refit"] is False and params["threshold"] == 0.5
    assert params["n_models"] == 2
    assert all(f["best_epoch"] == 25 and f["n_train"] == 46 for f in result["folds"])
    assert result["accuracy_mean"] > 0.6 and result["auc_mean"] > 0.7


def _benchmark_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "mil_benchmarks.py"
    spec = importlib.util.spec_from_file_location("mil_benchmarks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_split_over_processes_merge_into_one_table(tmp_path, capsys):
    bench = _benchmark_module()
    cell = {"accuracy": {"mean": 0.9, "se": 0.01}, "auc": {"mean": 0.95, "se": 0.02}}
    other = {"accuracy": {"mean": 0.8, "se": 0.03}, "auc": {"mean": 0.85, "se": 0.04}}
    (tmp_path / "a.json").write_text(json.dumps({"results": {"musk1": {"attention": cell}, "tiger": {"mean": cell}}}))
    (tmp_path / "b.json").write_text(json.dumps({"results": {"musk1": {"max": other}}}))
    bench.main(["--table-from", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    out = capsys.readouterr().out
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.split() and line.split()[0] in bench.POOLINGS:
            rows.setdefault(line.split()[0], []).append(line)
    assert all(len(v) == 2 for v in rows.values())  # an accuracy row and an AUC row per pooling
    header = next(line for line in out.splitlines() if line.startswith("pooling"))
    assert header.split()[1:] == ["musk1", "tiger"]  # one column per set found in either file
    accuracy, auc = rows["attention"]
    assert "0.900 ± 0.010 [0.892]" in accuracy and "0.950 ± 0.020" in auc and "[" not in auc
    assert rows["max"][0].split()[1:4] == ["0.800", "±", "0.030"] and rows["max"][0].rstrip().endswith("-")
    assert rows["mean"][0].split()[1] == "-" and "0.900 ± 0.010" in rows["mean"][0]  # from a.json's tiger
    with pytest.raises(SystemExit):
        bench.variant_params("E+bogus")  # an unknown setting modifier stops the run before any training
