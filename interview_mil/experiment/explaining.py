"""``interview-mil explain EXP --split dev``: the explanation tables (and report) for a split, made with the
experiment's trained model."""

from __future__ import annotations

from pathlib import Path

from ..data.manifest import read_spans
from ..errors import ManifestError
from ..explain import explain_bags, precision_at_k, precision_ceiling, write_tables
from .config import ExperimentConfig
from .dataset import dataset_truth, load_dataset
from .layout import ExperimentDir


def explain_split(
    exp: ExperimentDir, config: ExperimentConfig, split: str, out_dir: str | Path | None = None, html: bool = False
) -> dict:
    """Write ``interviews``/``turns`` tables for every interview of ``split`` (``all`` = every split)."""
    from ..mil import InterviewClassifier

    model = InterviewClassifier.load(exp.model)
    data = load_dataset(exp, config)
    idx = data.indices(None if split == "all" else [split], labelled=False)
    if len(idx) == 0:
        known = sorted({str(b.interview.split) for b in data.bags})
        raise ManifestError(
            f"no interviews with turns and features in split {split!r}",
            path=exp.manifest,
            fix=f"choose one of {known} or 'all'",
        )
    truth = dataset_truth(data, config)
    markers = None if truth is None else [truth[k] for k in idx]
    interviewer = read_spans(exp.interviewer_spans) if exp.interviewer_spans.exists() else {}
    items = explain_bags(
        model,
        [data.bags[k] for k in idx],
        interviewer,
        top_k=config.explain.top_k,
        n_random=config.explain.n_random,
        markers=markers,
    )
    out = Path(out_dir) if out_dir else exp.explain_dir(split)
    paths = write_tables(items, out, html=html, title=f"{config.name}: {split} split")
    judged = [i.row.faithful for i in items if i.row.faithful is not None]
    summary = {
        "split": split,
        "n_interviews": len(items),
        "out": str(out),
        "faithful_share": float(sum(bool(f) for f in judged) / max(1, len(judged))),
    }
    if markers is not None:
        summary["precision_at_k"] = precision_at_k(items, config.explain.top_k)
        summary["precision_ceiling"] = precision_ceiling(items, config.explain.top_k)
        summary["k"] = config.explain.top_k
    exp.record(f"explain_{split}", **summary)
    summary["paths"] = {k: str(v) for k, v in paths.items()}
    return summary
