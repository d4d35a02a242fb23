"""Issue 15, ``bags-cv`` edges: folds against the bags of each class, fractions, text in numeric columns and
the output path are checked before any cross-validation runs, each with one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_reliability_support import assert_clear_error, run_cli

FAST = ["--repeats", "1", "--max-epochs", "2", "--hidden", "8", "--quiet"]


def _table(path: Path, n_bags: int, text_cell: bool = False) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        {"bag_id": f"b{b}", "bag_label": b % 2, "x1": rng.normal() + b % 2, "x2": rng.normal()}
        for b in range(n_bags)
        for _ in range(4)
    ]
    df = pd.DataFrame(rows)
    if text_cell:
        df["x2"] = df["x2"].astype(object)
        df.loc[6, "x2"] = "abc"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def earlier(tmp_path) -> Path:
    """An earlier result JSON that a refused run must leave as it is."""
    path = tmp_path / "result.json"
    path.write_text('{"earlier": true}\n')
    return path


def test_out_that_is_a_folder_is_refused_before_the_cross_validation(tmp_path, capsys):
    table = _table(tmp_path / "t.csv", 8)
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "old.json").write_text("{}")
    code, _, err = run_cli(capsys, "bags-cv", table, "--folds", "2", *FAST, "--out", folder)
    assert code == 2
    assert_clear_error(err, folder, "is a folder", f"--out {folder / 'cv.json'}")
    assert "fold" not in err.split("error:")[0]  # no fold ran before the refusal
    assert [p.name for p in folder.iterdir()] == ["old.json"]


def test_more_folds_than_bags_of_a_class(tmp_path, capsys, earlier):
    table = _table(tmp_path / "four.csv", 4)
    code, _, err = run_cli(capsys, "bags-cv", table, "--folds", "3", *FAST, "--out", earlier)
    assert code == 2
    assert_clear_error(err, table, "class 0: 2 bags", "class 1: 2 bags", "--folds 2")
    assert earlier.read_text() == '{"earlier": true}\n'


@pytest.mark.parametrize("value", ["1.5", "-0.5", "1"])
def test_val_fraction_outside_0_1_is_an_error_not_silently_no_validation(value, tmp_path, capsys, earlier):
    table = _table(tmp_path / "t.csv", 8)
    code, _, err = run_cli(capsys, "bags-cv", table, "--folds", "2", *FAST, "--val-fraction", value, "--out", earlier)
    assert code == 2
    assert_clear_error(err, f"--val-fraction {value}", "[0, 1)")
    assert earlier.read_text() == '{"earlier": true}\n'


def test_a_text_cell_in_a_numeric_column_is_an_error_naming_column_and_line(tmp_path, capsys, earlier):
    table = _table(tmp_path / "text.csv", 8, text_cell=True)
    code, _, err = run_cli(capsys, "bags-cv", table, "--folds", "2", *FAST, "--out", earlier)
    assert code == 2
    assert_clear_error(err, table, "column 'x2'", "'abc' at line 8", "--exclude-cols x2")
    assert earlier.read_text() == '{"earlier": true}\n'
    code, _, _ = run_cli(capsys, "bags-cv", table, "--folds", "2", *FAST, "--exclude-cols", "x2", "--out", earlier)
    assert code == 0 and '"x1"' in earlier.read_text() and '"x2"' in earlier.read_text()  # x2: excluded


def test_a_single_bag_is_an_error_that_says_what_cross_validation_needs(tmp_path, capsys, earlier):
    table = _table(tmp_path / "one.csv", 1)
    code, _, err = run_cli(capsys, "bags-cv", table, "--folds", "2", *FAST, "--out", earlier)
    assert code == 2
    assert_clear_error(err, table, "class 0: 1 bags, class 1: 0 bags", "at least 2 bags of each class")
    assert "between 2 and 1" not in err
    assert earlier.read_text() == '{"earlier": true}\n'
