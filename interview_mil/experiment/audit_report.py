"""The written reports of ``evaluate``: ``evaluation.md`` (metrics with their intervals, calibration, the
three-way screen) and ``audit.md`` (the shortcut and leakage audit)."""

from __future__ import annotations

import numpy as np

from .. import SCREENING_DISCLAIMER
from ..mil.metrics import ECE_BINS


def _ci(stats: dict | None) -> str:
    if not stats or not np.isfinite(stats.get("estimate", np.nan)):
        return "–"
    return f"{stats['estimate']:.3f} [{stats['lo']:.3f}, {stats['hi']:.3f}]"


def _cell(stats: dict | None) -> str:
    if not stats or not np.isfinite(stats["mean"]):
        return "–"
    return f"{stats['mean']:.3f} ± {stats['sd']:.3f}" if np.isfinite(stats["sd"]) else f"{stats['mean']:.3f} ± n/a"


def _calibration_lines(result: dict) -> list[str]:
    cal, raw = result.get("calibration"), result.get("calibration_uncalibrated")
    if not cal:
        return []
    lines = [
        "",
        f"Calibration of the pooled out-of-fold probabilities of all seeds ({cal['n']} predictions; ECE over "
        f"{cal.get('ece_bins', ECE_BINS)} equal-width bins of the predicted probability, weighted by the bin's "
        "share; reliability plot: reliability.png)",
        "",
        "| | Brier | ECE |",
        "|---|---|---|",
        f"| calibrated (as `score` reports) | {cal['brier']:.3f} | {cal['ece']:.3f} |",
    ]
    if raw:
        lines.append(f"| before calibration | {raw['brier']:.3f} | {raw['ece']:.3f} |")
    return lines


def _conformal_lines(result: dict) -> list[str]:
    rows = [c for c in result.get("conformal") or [] if c.get("source")]
    if not rows:
        return ["", "Three-way screen: no calibration set in any fold, coverage not measured."]
    lines = [
        "",
        "Three-way screen (split-conformal; screen negative / refer / screen positive), out-of-fold:",
        "",
        "| alpha | target coverage | achieved | depressed | controls | referred | calibration set |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c['alpha']:.2f} | {c['target']:.2f} | {c['coverage']:.3f} | {c['coverage_depressed']:.3f} | "
        f"{c['coverage_control']:.3f} | {c['referred']:.3f} | {c['source']} |"
        for c in rows
    ]
    return lines


def format_evaluation(result: dict) -> str:
    """Plain-text tables: mean ± sd over seeds and the subject-bootstrap interval of each metric, the MIL
    model next to the strong interview-level baseline (and how often the model beats it over participant
    draws), the PHQ-8 figures next to the trivial predictor, calibration and the three-way screen."""
    n_seeds = len(result["seeds"])
    where = "dev split" if result["mode"] == "dev" else "grouped cross-validation"
    ci, base_ci = result.get("intervals") or {}, result.get("baseline_intervals") or {}
    wins = result.get("model_beats_baseline") or {}
    lines = [
        f"# {result['experiment']}: {result['pooling']} pooling on {'+'.join(result['parts'])} features",
        f"{where}, {result['n_evaluated']} interviews, mean ± sd over {n_seeds} seed(s); [95 % interval] from "
        f"{result.get('n_boot', 0)} subject-bootstrap draws (participants resampled) of the pooled out-of-fold "
        "predictions",
        "",
        "| metric | MIL model | [interval] | interview-level baseline | [interval] | model beats baseline |",
        "|---|---|---|---|---|---|",
    ]
    base = result.get("baseline_summary") or {}
    for name, stats in result["summary"].items():
        win = f"{wins[name]:.0%} of draws" if name in wins else "–"
        lines.append(
            f"| {name} | {_cell(stats)} | {_ci(ci.get(name))} | {_cell(base.get(name))} | "
            f"{_ci(base_ci.get(name))} | {win} |"
        )
    phq = result.get("phq8") or {}
    if phq:
        lines += ["", "| PHQ-8 | model head | [interval] | training-mean predictor |", "|---|---|---|---|"]
        lines += [
            f"| {m} | {_cell(phq.get(f'model_{m}'))} | {_ci(ci.get(f'phq8_{m}'))} | {_cell(phq.get(f'trivial_{m}'))} |"
            for m in ("rmse", "mae", "ccc")
        ]
    lines += _calibration_lines(result) + _conformal_lines(result)
    flags = result.get("audit_flags")
    if flags is not None:
        lines += ["", f"Audit (audit.md): {len(flags)} flag(s)" + (":" if flags else ".")] + [f"- {f}" for f in flags]
    lines += [
        "",
        "Baseline: mean, sd, 10th and 90th percentile of each turn feature per interview, L2 logistic",
        "regression with its strength chosen by grouped inner CV on each training fold.",
        "",
        SCREENING_DISCLAIMER,
        "",
    ]
    return "\n".join(lines)


def format_audit(audit: dict) -> str:
    """``audit.md``: the flags first, then each check with its figures and how to read it."""
    main = audit["main_auc"]
    overlap = audit["participant_overlap"]
    lines = [
        "# Shortcut and leakage audit",
        "",
        f"**{len(audit['flags'])} flag(s).**" + ("" if audit["flags"] else " Nothing below reached a flag."),
        *[f"- {f}" for f in audit["flags"]],
        "",
        "## Participant overlap",
        f"Checked {overlap['checked_splits']} split(s): no participant has interviews on both sides (a shared "
        "participant stops `evaluate` with an error naming them).",
        "",
        "## Control models on the same folds",
        f"Main model AUC {_ci(main)} (pooled out-of-fold, mean over seeds, subject-bootstrap interval). A control "
        "is flagged when its AUC reaches the lower end of that interval while its own interval lies above 0.5.",
        "",
        "| control | inputs | AUC [interval] | flagged |",
        "|---|---|---|---|",
    ]
    for c in audit["controls"]:
        if "skipped" in c:
            lines.append(f"| {c['name']} | – | skipped: {c['skipped']} | – |")
        else:
            lines.append(
                f"| {c['name']} | {', '.join(c['columns'])} | {_ci(c['auc'])} | "
                + ("YES" if c["flagged"] else "no" if c.get("flaggable", True) else "never (informational)")
                + " |"
            )
    p = audit["speaker_probe"]
    lines += [
        "",
        "## Speaker-identity probe",
        f"On {p['vectors']} ({p['n_dims']} dimensions, {p['n_turns']} turns of {p['n_participants']} participants): "
        f"a linear probe names the participant of a held-out turn with accuracy {p['identity_accuracy']:.3f} "
        f"(chance {p['identity_chance']:.3f}); from one turn it predicts the label with AUC {p['label_auc']:.3f} "
        f"(balanced accuracy {p['label_balanced_accuracy']:.3f}, participants held out). Identity far above chance "
        "means the vectors say who is speaking: a model can learn the person instead of the condition wherever a "
        "participant's interviews sit on both sides of a split (checked above).",
    ]
    g = audit.get("gender")
    lines += ["", "## Metrics per gender"]
    if not g:
        lines.append("No gender recorded for these interviews.")
    else:
        lines += ["", "| metric | estimate [interval] |", "|---|---|"]
        lines += [f"| {name} | {_ci(stats)} |" for name, stats in g["metrics"].items()]
        lines.append(
            g.get(
                "note",
                "Gap = first gender minus second (alphabetical); flagged when the AUC gap's interval excludes 0.",
            )
        )
    lines += ["", SCREENING_DISCLAIMER, ""]
    return "\n".join(lines)


def _markdown_html(text: str) -> str:
    """The small markdown these reports use (headings, pipe tables, bullet lists, paragraphs) as HTML."""
    import html

    out, table = [], []

    def inline(t: str) -> str:
        t = html.escape(t)
        while t.count("**") >= 2:
            t = t.replace("**", "<b>", 1).replace("**", "</b>", 1)
        while t.count("`") >= 2:
            t = t.replace("`", "<code>", 1).replace("`", "</code>", 1)
        return t

    def flush() -> None:
        if table:
            rows = [r for r in table if not set(r.replace("|", "").strip()) <= {"-"}]
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{inline(c)}</th>" for c in cells[0])
            body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
            out.append(f"<table><tr>{head}</tr>{body}</table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 1, 4)
            out.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return "\n".join(out)


def render_evaluation_html(result: dict, audit: dict | None = None) -> str:
    """``evaluation.html``: the evaluation tables, the reliability diagram inline (SVG), the audit, and the
    screening disclaimer; self-contained (no scripts, no network)."""
    import html

    from ..explain.report import _CSS, reliability_svg

    plot = ""
    if result.get("calibration"):
        plot = "<h2>Reliability</h2>" + reliability_svg(result["calibration"], result.get("calibration_uncalibrated"))
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(result['experiment'])}"
        f" evaluation</title><style>{_CSS}</style></head><body>"
        f"<p class='disclaimer'><b>Not a diagnosis.</b> {html.escape(SCREENING_DISCLAIMER)}</p>"
        + _markdown_html(format_evaluation(result))
        + plot
        + (_markdown_html(format_audit(audit)) if audit else "")
        + "</body></html>"
    )
