"""The suite's table, written from its JSON (never typed by hand).

    python benchmarks/suite_table.py runs/suite/heldout.json [--into README.md] [--machine "2-core CPU"]

Prints a Markdown table with one row per cell: the default model, the strong interview-level baseline (the
better of its two forms: with and without the encoder's columns) and
SIL top-3 (bag AUC mean ± sd over seeds), the default's turn localisation, the planted ceiling, the share of
marker answers in depressed interviews and the generator with its version. ``--into FILE`` replaces the text
between ``<!-- suite:begin -->`` and ``<!-- suite:end -->`` in FILE.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"


def _fmt(mean: float, sd: float) -> str:
    return "–" if mean is None or math.isnan(mean) else f"{mean:.3f} ± {sd:.3f}"


def _auc(row: dict | None) -> str:
    """Fold-mean bag AUC ± sd over seeds, then the pooled out-of-fold AUC where the row has it."""
    if row is None:
        return "–"
    pooled = row.get("bag_auc_pooled_mean")
    return _fmt(row["bag_auc_mean"], row["bag_auc_sd"]) + ("" if pooled is None else f" ({pooled:.3f})")


def render(rows: list[dict], default: str = "default") -> str:
    """Markdown table of the rows of ``suite.py --json`` (the last row of each (cell, model) wins)."""
    by = {(r["cell"], r["model"]): r for r in rows}
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    lines = [
        "| cell | default | strong baseline | SIL top-3 | default − baseline | turn localisation | ceiling "
        "| marker share | interviews | audit flags | generator | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        d, s = by.get((cell, default)), by.get((cell, "sil_top3"))
        bases = [by[(cell, m)] for m in ("baseline_functionals", "baseline_functionals_prosody") if (cell, m) in by]
        b = max(bases, key=lambda r: r["bag_auc_mean"]) if bases else None  # the stronger of the two
        if d is None:
            continue
        gap = "–" if b is None else f"{d['bag_auc_mean'] - b['bag_auc_mean']:+.3f}"
        ceiling = d.get("planted_ceiling")
        lines.append(
            f"| {cell} | {_auc(d)} | {_auc(b)} | {_auc(s)} | {gap} "
            f"| {_fmt(d['turn_auc_mean'], d['turn_auc_sd'])} "
            f"| {'–' if ceiling is None or math.isnan(ceiling) else f'{ceiling:.3f}'} "
            f"| {d['marker_share_depressed']:.2f} | {d['n_interviews']} | {len(d.get('audit_flags', [])) or 'none'} "
            f"| {d['generator']} v{d['generator_version']} | {len(d['seeds'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json_file")
    p.add_argument("--into", help="Markdown file whose suite block is replaced")
    p.add_argument("--model", default="default", help="the row to show as the default")
    p.add_argument("--machine", default=None, help="say where and when the figures were measured")
    args = p.parse_args(argv)
    table = render(json.loads(Path(args.json_file).read_text()), args.model)
    if args.machine:
        table += f"\n\nMeasured on {args.machine}; from `{args.json_file}` by `benchmarks/suite_table.py`."
    print(table)
    if args.into:
        path = Path(args.into)
        text = path.read_text()
        block = f"{BEGIN}\n{table}\n{END}"
        if BEGIN in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
        else:
            text += "\n" + block + "\n"
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
