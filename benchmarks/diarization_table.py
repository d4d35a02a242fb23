"""The diarization benchmark's table, written from its JSON (never typed by hand).

    python benchmarks/diarization_table.py docs/diarization/diarize.json docs/diarization/vad.json \
        [--into docs/benchmarks.md]

One row per source over all recordings, one per condition value of the first source, and the shared
conversation for each: DER (collar ±0.25 s and none), JER, participant recall, interviewer contamination,
answers per turn, participant chosen, CPU s per audio s. ``--into FILE`` replaces the text between
``<!-- diarization:begin -->`` and ``<!-- diarization:end -->`` in FILE.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

BEGIN, END = "<!-- diarization:begin -->", "<!-- diarization:end -->"
HEAD = (
    "| source, set | DER ±0.25 s | DER no collar | JER ±0.25 s | participant recall | interviewer contamination "
    "| answers per turn: median (share > 1) | participant chosen | CPU s per audio s |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _row(name: str, o: dict) -> str:
    return (
        f"| {name} | {o['der_0.25']:.3f} | {o['der_0']:.3f} | {o['jer_0.25']:.3f} | {o['recall']:.3f} | "
        f"{o['contamination']:.3f} | {o['answers_per_turn_median']:.0f} ({100 * o['turns_multi_answer']:.1f} %) | "
        f"{o['chosen']:.2f} | {o['rtf']:.4f} |"
    )


def render(runs: list[dict]) -> str:
    """The Markdown table of ``runs`` (each a ``diarization.py --json`` output); conditions of the first."""
    lines = [HEAD]
    for run in runs:
        n = run["overall"]["n_recordings"]
        lines.append(
            _row(f"`{run['run']['source']}`, {n} recordings (commit {run['run']['git_commit'][:7]})", run["overall"])
        )
    first = runs[0]
    for condition, values in first["by_condition"].items():
        for value, o in values.items():
            lines.append(_row(f"`{first['run']['source']}`, {condition} = {value} (n = {o['n_recordings']})", o))
    for run in runs:
        if run.get("conversation"):
            lines.append(_row(f"`{run['run']['source']}`, shared conversation (30 s)", run["conversation"]["figures"]))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", nargs="+", help="diarization.py --json outputs, the first one's conditions listed")
    p.add_argument("--into", help="replace the table between the diarization markers in this file")
    args = p.parse_args(argv)
    table = render([json.loads(Path(f).read_text()) for f in args.json])
    if not args.into:
        print(table, end="")
        return 0
    path = Path(args.into)
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write the table between")
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + BEGIN + "\n" + table + END + rest.split(END, 1)[1], encoding="utf-8")
    print(f"table written into {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
