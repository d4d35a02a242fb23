"""``interview-mil synth``: write the built-in synthetic interview corpus (DAIC-WOZ layout)."""

from __future__ import annotations

import argparse

ORDER = 10


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "synth",
        help="generate the synthetic interview corpus (DAIC-WOZ layout, with ground truth)",
        description="Generate interviews with real synthesised speech: an interviewer (as quiet bleed) "
        "and a participant whose depressed interviews contain a minority of marker turns (flat pitch, "
        "quiet and even loudness, slow speech, long pauses, long latency). Ground truth goes to "
        "DIR/ground_truth/.",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-interviews", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, default=120.0, help="target seconds per interview")
    p.add_argument(
        "--label-strength",
        type=float,
        default=0.8,
        help="0..1: how strongly marker turns depart from the speaker's neutral speech",
    )
    p.add_argument("--depressed-fraction", type=float, default=0.4)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..corpora.synthetic import SynthConfig, generate_corpus
    from ..errors import ConfigError

    try:
        cfg = SynthConfig(
            n_interviews=args.n_interviews,
            seed=args.seed,
            target_duration_s=args.duration,
            label_strength=args.label_strength,
            depressed_fraction=args.depressed_fraction,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    summary = generate_corpus(args.out, cfg, progress=not args.no_progress)
    print(
        f"wrote {summary['n_interviews']} interviews ({summary['n_depressed']} depressed; "
        f"splits {summary['splits']}; {summary['seconds_of_audio']:.0f} s of audio) to {args.out} "
        f"in {summary['total_seconds']:.0f} s"
    )
    print(f"ground truth: {args.out}/ground_truth/ (labels.csv, turns.csv, segments.csv, corpus.json)")
    return 0
