"""Self-contained HTML reports: a timeline of the interview (turns coloured by weight, interviewer greyed),
a prosody panel, the top turns with their text, and the screening disclaimer. Figures are inline SVG;
the file needs nothing else (no scripts, no network)."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import SCREENING_DISCLAIMER, __version__
from ..fileio import write_text
from .records import ExplainedInterview, phq8_text
from .tables import READABLE_PROSODY

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2.5rem;border-bottom:1px solid #ccc}
.disclaimer{background:#fff4e5;border:1px solid #f0a040;padding:.8rem 1rem;border-radius:6px}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f3f3f3} .num{text-align:right} .muted{color:#666;font-size:.85rem} svg{max-width:100%;height:auto}
"""


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def timeline_svg(item: ExplainedInterview) -> str:
    """Turns as bars placed in time, coloured by weight; interviewer speech in grey."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    t = item.turns
    end = item.duration or float(max([t["end"].max() if len(t) else 0.0] + [b for _, b in item.interviewer]))
    fig, ax = plt.subplots(figsize=(11, 1.9))
    for a, b in item.interviewer:
        ax.broken_barh([(a, b - a)], (0.0, 0.8), facecolors="#bbbbbb")
    norm = colors.Normalize(vmin=0.0, vmax=max(float(t["weight"].max()) if len(t) else 1.0, 1e-9))
    cmap = matplotlib.colormaps["viridis_r"]
    for row in t.itertuples():
        ax.broken_barh(
            [(row.start, row.end - row.start)],
            (1.0, 0.8),
            facecolors=cmap(norm(row.weight)),
            edgecolor="black" if row.rank <= 3 else "none",
            linewidth=0.8,
        )
        if row.rank <= 3:
            ax.text((row.start + row.end) / 2, 1.95, str(row.rank), ha="center", va="bottom", fontsize=8)
    ax.set_xlim(0, end)
    ax.set_ylim(-0.1, 2.3)
    ax.set_yticks([0.4, 1.4], ["interviewer", "participant"])
    ax.set_xlabel("time (s)")
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, label="weight")
    return _svg(fig)


def prosody_svg(item: ExplainedInterview) -> str:
    """One small plot per readable prosody measure across the turns; the top-3 turns are marked."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    t = item.turns
    columns = [c for c in READABLE_PROSODY if c in t.columns]
    if not columns or not len(t):
        return "<p class='muted'>No prosody available for these turns.</p>"
    fig, axes = plt.subplots(1, len(columns), figsize=(2.3 * len(columns), 2.2), squeeze=False)
    top = t["rank"] <= 3
    for ax, column in zip(axes[0], columns):
        ax.plot(t["turn_index"], t[column], color="#888888", marker="o", markersize=3, linewidth=0.8)
        ax.scatter(t.loc[top, "turn_index"], t.loc[top, column], color="#d62728", zorder=3, s=22, label="top turns")
        ax.set_title(READABLE_PROSODY[column], fontsize=8)
        ax.set_xlabel("turn", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _svg(fig)


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _said(r) -> str:
    """The interviewer's prompt (muted) and the answer's words, escaped; '–' when neither is known."""
    prompt = getattr(r, "prompt_text", None)
    asked = f"<span class='muted'>{_fmt(prompt)}</span><br>" if isinstance(prompt, str) and prompt else ""
    return asked + (_fmt(r.text) if isinstance(r.text, str) and r.text else ("" if asked else "–"))


def _top_turns_html(item: ExplainedInterview, k: int = 5) -> str:
    t = item.turns.sort_values("rank").head(k)
    z_cols = [c for c in READABLE_PROSODY if f"{c}_z" in t.columns]
    head = "".join(f"<th>{html.escape(READABLE_PROSODY[c])} (z)</th>" for c in z_cols)
    rows = []
    for r in t.itertuples():
        cells = "".join(f"<td class='num'>{_fmt(getattr(r, c))} ({_fmt(getattr(r, c + '_z'), 1)})</td>" for c in z_cols)
        rows.append(
            f"<tr><td class='num'>{r.rank}</td><td class='num'>{r.start:.1f}–{r.end:.1f} s</td>"
            f"<td class='num'>{r.weight:.3f}</td><td class='num'>{_fmt(r.contribution, 3)}</td>"
            f"<td>{_said(r)}</td>{cells}</tr>"
        )
    return (
        "<table><tr><th>rank</th><th>time</th><th>weight</th><th>contribution</th><th>asked → answered</th>"
        f"{head}</tr>{''.join(rows)}</table>"
    )


def _probability_html(r) -> str:
    """The calibrated probability with its interval, the three-way decision and the threshold decision."""
    interval = "" if r.probability_low is None else f" (interval {r.probability_low:.3f}–{r.probability_high:.3f})"
    screen = ""
    if r.screen and r.quality == "refer":
        screen = f" — <b>{html.escape(r.screen)}</b> (the input quality check: see its note below)"
    elif r.screen:
        screen = (
            f" — <b>{html.escape(r.screen)}</b> (split-conformal at error rate {r.alpha:.2f}: the decision is "
            "right for at least that share of interviews like the calibration set; refer = the model cannot tell)"
        )
    decision = "screen positive" if r.decision else "screen negative"
    voice = ""
    if isinstance(getattr(r, "participant_voice", None), str):  # the diarize source chose it (NaN: not)
        margin = getattr(r, "participant_margin", None)
        how = "chosen by the user" if margin is None or margin != margin else f"margin {margin:.2f}"
        voice = f" (the voice {html.escape(str(r.participant_voice))} of the recording, {how})"
    return (
        f"<p><b>Calibrated probability {r.probability:.3f}</b>{interval}{screen}. At the model's threshold "
        f"{r.threshold:.3f}: {decision}; {r.n_turns} participant turns{voice}"
    )


def _quality_html(r) -> str:
    if not getattr(r, "quality", None) and not getattr(r, "quality_reason", None):
        return ""
    return f"<p class='muted'>Input quality: {_fmt(r.quality)}" + (
        f" — {_fmt(r.quality_reason)}</p>" if r.quality_reason else "</p>"
    )


def _not_scored_section(item: ExplainedInterview) -> str:
    r = item.row
    why = r.quality_reason or r.error or r.status
    return (
        f"<h2>Interview {html.escape(str(r.interview_id))}</h2>"
        f"<p><b>Not scored</b> ({html.escape(str(r.status))}): {html.escape(str(why))}. No probability is given "
        "for this recording.</p>"
    )


def _section(item: ExplainedInterview) -> str:
    r = item.row
    if r.status != "ok":
        return _not_scored_section(item)
    faith = ""
    if r.prob_drop_top_k is not None:
        faith = (
            f"<p class='muted'>Faithfulness: removing the top {r.faithfulness_k} turns lowers the "
            f"probability by {r.prob_drop_top_k:.3f}; removing {r.faithfulness_k} random turns by "
            f"{r.prob_drop_random_k:.3f} on average.</p>"
        )
    return (
        f"<h2>Interview {html.escape(str(r.interview_id))}</h2>"
        + _probability_html(r)
        + (f"; {html.escape(phq8_text(r))}" if phq8_text(r) else "")
        + ".</p>"
        + _quality_html(r)
        + faith
        + "<h3>Timeline</h3>"
        + timeline_svg(item)
        + "<p class='muted'>Bars: participant turns coloured by their weight in the model's decision "
        "(numbers: the three most influential); grey: interviewer speech, never used as evidence.</p>"
        + "<h3>Prosody of each turn</h3>"
        + prosody_svg(item)
        + "<h3>Most influential turns</h3>"
        + _top_turns_html(item)
    )


def render_report(items: Sequence[ExplainedInterview], title: str) -> str:
    """The whole HTML document for ``items`` (one recording or a whole split)."""
    summary = ""
    if len(items) > 1:
        rows = "".join(
            f"<tr><td>{html.escape(str(i.row.interview_id))}</td>"
            f"<td class='num'>{_fmt(i.row.probability, 3)}</td>"
            f"<td class='num'>{_fmt(i.row.probability_low)}–{_fmt(i.row.probability_high)}</td>"
            f"<td>{_fmt(i.row.screen) if i.row.status == 'ok' else 'not scored'}</td>"
            f"<td class='num'>{_fmt(i.row.decision)}</td><td class='num'>{i.row.n_turns}</td>"
            f"<td>{_fmt(getattr(i.row, 'quality', None))}</td></tr>"
            for i in items
        )
        summary = (
            "<h2>Summary</h2><table><tr><th>interview</th><th>calibrated probability</th><th>interval</th>"
            "<th>three-way decision</th><th>threshold decision</th><th>turns</th><th>input quality</th></tr>"
            f"{rows}</table>"
        )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class='disclaimer'><b>Not a diagnosis.</b> {html.escape(SCREENING_DISCLAIMER)}</p>"
        + summary
        + "".join(_section(i) for i in items)
        + f"<p class='muted'>interview_mil {__version__}. This report holds no audio.</p></body></html>"
    )


def write_report(items: Sequence[ExplainedInterview], path: str | Path, title: str) -> Path:
    """Render and write the report atomically; returns ``path``."""
    return write_text(path, render_report(items, title))


def reliability_figure(calibration: dict, uncalibrated: dict | None = None):
    """The reliability diagram of ``mil.metrics.calibration_metrics`` results: observed share of depressed
    against the mean predicted probability per bin (marker area ∝ interviews in the bin); the diagonal is
    perfect calibration."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8, label="perfect calibration")
    for cal, colour, name in ((uncalibrated, "#bbbbbb", "before calibration"), (calibration, "#1f77b4", "calibrated")):
        if not cal or not cal.get("bins"):
            continue
        bins = cal["bins"]
        x, y, n = (np.asarray([b[k] for b in bins], dtype=float) for k in ("mean_prob", "observed", "n"))
        ax.plot(x, y, color=colour, marker="o", linewidth=1.0, markersize=0)
        ax.scatter(x, y, s=12 + 180 * n / max(n.max(), 1), color=colour, label=f"{name} (ECE {cal['ece']:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability (bin mean)")
    ax.set_ylabel("observed share depressed")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def reliability_svg(calibration: dict, uncalibrated: dict | None = None) -> str:
    """The reliability diagram as inline SVG (for HTML reports)."""
    return _svg(reliability_figure(calibration, uncalibrated))


def write_reliability_png(calibration: dict, path: str | Path, uncalibrated: dict | None = None) -> Path:
    """Write the reliability diagram as a PNG atomically; returns ``path``."""
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    fig = reliability_figure(calibration, uncalibrated)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)
    return Path(path)
