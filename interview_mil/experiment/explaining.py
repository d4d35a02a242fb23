"""``interview-mil explain EXP --split dev``: the explanation tables (and report) for a split, made with the
experiment's trained model."""

from __future__ import annotations

from pathlib import Path

from ..errors import ManifestError
from ..explain.export import explain_interviews, precision_at_k, precision_ceiling, write_tables
from .config import ExperimentConfig
from .dataset import load_dataset, marker_truth, synthetic_truth_table
from .layout import ExperimentDir


def explain_split(exp: ExperimentDir, config: ExperimentConfig, split: str, out_dir: str | Path | None = None,
                  html: bool = False) -> dict:
    """Write ``interviews``/``turns`` tables for every interview of ``split`` (``all`` = every split)."""
    from ..mil import load_classifier

    model = load_classifier(exp.model)
    data = load_dataset(exp, config)
    idx = data.indices(None if split == "all" else [split], labelled=False)
    if len(idx) == 0:
        known = sorted({str(i.split) for i in data.interviews})
        raise ManifestError(f"no interviews with turns and features in split {split!r}", path=exp.manifest,
                            fix=f"choose one of {known} or 'all'")
    truth = synthetic_truth_table(config.corpus.root) if config.corpus.name == "synthetic" else None
    markers = None
    if truth is not None:
        markers = [marker_truth(truth, data.interviews[k].interview_id, data.turns[k]) for k in idx]
    from .projection import EmbeddingProjection, project

    meta = getattr(model, "metadata_", {}) or {}
    proj = EmbeddingProjection.from_dict(meta["projection"]) if meta.get("projection") else None
    items = explain_interviews(model, [data.interviews[k] for k in idx], [data.turns[k] for k in idx],
                               project([data.bags[k] for k in idx], proj), [data.prosody[k] for k in idx],
                               top_k=config.explain.top_k, n_random=config.explain.n_random, markers=markers)
    for item, k in zip(items, idx):
        item.row["label"] = data.interviews[k].label
    out = Path(out_dir) if out_dir else exp.explain_dir(split)
    paths = write_tables(items, out, html=html, title=f"{config.name}: {split} split")
    summary = {"split": split, "n_interviews": len(items), "out": str(out),
               "faithful_share": float(sum(bool(i.row["faithful"]) for i in items if i.row["faithful"] is not None)
                                       / max(1, sum(i.row["faithful"] is not None for i in items)))}
    if markers is not None:
        summary["precision_at_k"] = precision_at_k(items, config.explain.top_k)
        summary["precision_ceiling"] = precision_ceiling(items, config.explain.top_k)
        summary["k"] = config.explain.top_k
    exp.record(f"explain_{split}", **summary)
    summary["paths"] = {k: str(v) for k, v in paths.items()}
    return summary
