"""``interview-mil segment``: the participant's response turns of one recording, of a whole manifest, or
of an experiment (stage 2 of a recipe).

    interview-mil segment AUDIO --out TURNS.csv [--transcript FILE] [--rttm FILE] [--participant NAME]
    interview-mil segment AUDIO --out TURNS.csv --write-rttm WHO.rttm   # one channel: who spoke when, to check
    interview-mil segment --manifest M.jsonl --out TURNS.parquet [--config seg.yaml] [--set vad.aggressiveness=3]
    interview-mil segment --exp EXP        # EXP's manifest and segmentation settings → EXP/turns.parquet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._experiment import add_set_option

ORDER = 20

# command-line flag → dotted config key
_FLAGS = {
    "vad_frame_ms": "vad.frame_ms",
    "vad_aggressiveness": "vad.aggressiveness",
    "min_speech": "vad.min_speech",
    "min_silence": "vad.min_silence",
    "hangover": "vad.hangover",
    "split_pause": "turns.split_pause",
    "bleed_margin_db": "bleed.margin_db",
    "merge_gap": "transcript.merge_gap",
    "num_speakers": "diarize.num_speakers",
}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "segment",
        help="find the participant's response turns (VAD, transcript, RTTM/STM or channel)",
        description="Segment recordings into the participant's response turns and write a turns table "
        "(CSV or Parquet by the suffix of --out). The turn source is chosen from what is given: an RTTM "
        "file, a transcript (DAIC-WOZ, E-DAIC ASR or STM, detected from the content), a participant "
        "channel of a stereo file, else diarization: the voices told apart by a speaker encoder and the "
        "participant chosen from the recording (check it with --write-rttm, override it with --participant). "
        "E-DAIC ASR transcripts have no speakers, so interviewer speech stays in those turns.",
    )
    p.add_argument("audio", nargs="?", help="one recording (or use --manifest or --exp)")
    p.add_argument("--manifest", help="interview manifest (.jsonl/.parquet): segment every interview in it")
    p.add_argument(
        "--exp",
        help="experiment folder (after `interview-mil prepare`): segment its manifest with "
        "its segmentation settings into EXP/turns.parquet + segment_report.json, as `train` would; "
        "takes no other option and never redoes a finished segmentation",
    )
    p.add_argument("--out", help="turns table to write (.csv, .csv.gz or .parquet); not with --exp")
    p.add_argument("--transcript", help="DAIC-WOZ / E-DAIC transcript or STM file for AUDIO")
    p.add_argument("--rttm", help="RTTM speaker segments for AUDIO")
    p.add_argument(
        "--participant",
        help="the participant's speaker name in the RTTM/STM file, or the voice the diarize source should take "
        "(spk1 = the first to speak; see --write-rttm)",
    )
    p.add_argument(
        "--write-rttm",
        metavar="FILE",
        help="diarize/vad sources, one AUDIO: write who spoke when as RTTM (participant, interviewer, overlap); "
        "correct it and read it back with --rttm",
    )
    p.add_argument("--num-speakers", type=int, help="voices in the recording for diarization (default 2; 0 = find)")
    p.add_argument(
        "--file-id",
        help="the recording's file id in an RTTM/STM file holding several recordings (default: the one named "
        "after AUDIO or --id)",
    )
    p.add_argument("--channel", type=int, help="channel holding the participant (stereo recordings)")
    p.add_argument("--id", dest="interview_id", help="interview id for AUDIO (default: the file name)")
    p.add_argument("--source", help="force a turn source: diarize, vad, stereo, daic_woz, e_daic, stm, rttm")
    p.add_argument("--config", help="segmentation config YAML (SegmentationConfig fields)")
    add_set_option(p, "dotted config override, e.g. --set turns.max_length=30 (repeatable)")
    vad = p.add_argument_group("VAD and turn options (shortcuts for --set)")
    vad.add_argument("--vad-frame-ms", type=int, choices=(10, 20, 30))
    vad.add_argument("--vad-aggressiveness", type=int, choices=(0, 1, 2, 3))
    vad.add_argument("--min-speech", type=float, help="s: shorter speech bursts are dropped")
    vad.add_argument("--min-silence", type=float, help="s: shorter gaps are bridged")
    vad.add_argument("--hangover", type=float, help="s of speech kept after the detector stops")
    vad.add_argument("--split-pause", type=float, help="s: a longer pause starts a new turn (audio only)")
    vad.add_argument(
        "--max-turn-length", type=float, help="s: longer turns are cut into pieces (0 keeps turns whole; default 20)"
    )
    vad.add_argument("--merge-gap", type=float, help="s: transcript lines closer than this form one turn")
    vad.add_argument(
        "--bleed-margin-db", type=float, help="dB below the participant's level that counts as interviewer bleed"
    )
    vad.add_argument("--no-bleed", action="store_true", help="keep all speech (participant-only channel)")
    vad.add_argument("--no-refine", action="store_true", help="no VAD trimming or pause measurement")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def build_config(args: argparse.Namespace):
    """The SegmentationConfig from --config, the option shortcuts, then --set overrides."""
    from ..config import apply_overrides, from_dict, load_yaml
    from ..errors import ConfigError
    from ..segmentation import SegmentationConfig

    data = load_yaml(args.config) if args.config else {}
    overrides = [f"{key}={getattr(args, flag)}" for flag, key in _FLAGS.items() if getattr(args, flag) is not None]
    if args.max_turn_length is not None:
        if args.max_turn_length < 0:
            raise ConfigError(
                f"--max-turn-length {args.max_turn_length:g} is negative",
                fix="give the longest turn in seconds (at least 1), or 0 to keep turns whole",
            )
        overrides.append("turns.max_length=" + ("null" if args.max_turn_length == 0 else str(args.max_turn_length)))
    if args.no_bleed:
        overrides.append("bleed.enabled=false")
    if args.no_refine:
        overrides.append("refine.enabled=false")
    return from_dict(SegmentationConfig, apply_overrides(data, overrides + list(args.overrides)), source=args.config)


def _single(args: argparse.Namespace, config) -> int:
    from ..data import Interview, write_turns
    from ..errors import ConfigError
    from ..segmentation import segment_interview
    from ..segmentation.speakers import write_rttm

    interview = Interview(
        interview_id=args.interview_id or Path(args.audio).stem,
        audio_path=args.audio,
        transcript_path=args.transcript,
        rttm_path=args.rttm,
        participant_speaker=args.participant,
        channel=args.channel,
        meta={} if args.file_id is None else {"file_id": args.file_id},
    )
    result = segment_interview(interview, config, args.source)
    write_turns(result.turns, args.out)
    speech = sum(t.duration for t in result.turns)
    print(
        f"{interview.interview_id}: {len(result.turns)} turns ({speech:.1f} s of participant speech, source "
        f"{result.source}) -> {args.out}"
    )
    found = result.diarization
    if found is not None and result.source == "diarize":
        how = "chosen by you" if found.chosen_by == "override" else f"margin {found.margin:.2f}"
        print(f"  participant: voice {found.participant} of {len(found.speakers)} ({how})")
    if args.write_rttm:
        if found is None:
            raise ConfigError(
                f"--write-rttm: the {result.source} source does not diarize",
                fix="use it with recordings segmented by the diarize or vad source (no transcript or RTTM)",
            )
        print(f"  who spoke when -> {write_rttm(found, interview.interview_id, args.write_rttm)}")
    return 0


def _batch(args: argparse.Namespace, config) -> int:
    from ..data import read_manifest, write_turns
    from ..segmentation import segment_manifest

    interviews = read_manifest(args.manifest)
    report = segment_manifest(interviews, config, args.source, progress=not args.no_progress)
    write_turns(report.turns, args.out)
    done = len(interviews) - len(report.failures)
    print(f"{done}/{len(interviews)} interviews segmented, {len(report.turns)} turns -> {args.out}")
    if report.empty:
        print(f"no turns found in {len(report.empty)} interview(s): {', '.join(report.empty)}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} interview(s) failed:", file=sys.stderr)
        for interview_id, message in report.failures.items():
            print(f"  {interview_id}: {message}", file=sys.stderr)
        return 1
    return 0


def _experiment(args: argparse.Namespace) -> int:
    """The experiment's segment stage: exactly what `train` would run, recorded in EXP/meta.json."""
    from ..experiment import segment
    from ._experiment import open_experiment, refuse_other_options

    refuse_other_options(args, (), {"audio": "AUDIO", "interview_id": "--id", "overrides": "--set"})
    exp, config = open_experiment(args.exp)
    summary = segment(exp, config, progress=not args.no_progress)
    if summary.get("skipped"):
        print(
            f"already segmented ({exp.segment_report.name}): {summary['n_turns']} turns in {exp.turns}; nothing redone"
        )
    else:
        done = summary["n_interviews"] - len(summary["failures"])
        print(
            f"{done}/{summary['n_interviews']} interviews segmented, {summary['n_turns']} turns -> {exp.turns} "
            f"(report: {exp.segment_report})"
        )
    if summary["no_turns"]:
        print(
            f"no turns found in {len(summary['no_turns'])} interview(s): {', '.join(summary['no_turns'])}",
            file=sys.stderr,
        )
    if summary["failures"]:
        print(f"{len(summary['failures'])} interview(s) failed and are left out of the experiment:", file=sys.stderr)
        for interview_id, message in summary["failures"].items():
            print(f"  {interview_id}: {message}", file=sys.stderr)
    return 0 if summary["n_turns"] else 1


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..fileio import table_format

    if args.exp:
        return _experiment(args)
    if bool(args.audio) == bool(args.manifest):
        raise ConfigError(
            "give either one AUDIO file or --manifest M (or --exp EXP), not both and not neither",
            fix="interview-mil segment AUDIO --out TURNS.csv, --manifest M.jsonl --out T.parquet, or --exp EXP",
        )
    if not args.out:
        raise ConfigError(
            "--out is required with AUDIO or --manifest", fix="name the turns table to write, e.g. --out turns.parquet"
        )
    if args.manifest and args.write_rttm:
        raise ConfigError("--write-rttm writes one AUDIO's diarization", fix="give one AUDIO file, not --manifest")
    if args.manifest and (args.transcript or args.rttm or args.participant or args.file_id or args.channel is not None):
        raise ConfigError(
            "--transcript/--rttm/--participant/--file-id/--channel describe one AUDIO file; with "
            "--manifest they come from the manifest's records",
            fix="put them in the manifest's columns: transcript_path, rttm_path, participant_speaker, file_id, channel",
        )
    if args.audio and not Path(args.audio).is_file():
        raise ConfigError(
            "AUDIO file not found" if not Path(args.audio).exists() else "AUDIO is not a file",
            path=args.audio,
            fix="check the path of the recording",
        )
    if Path(args.out).is_dir():
        raise ConfigError("--out is a folder; it names the turns table", path=args.out, fix="e.g. --out turns.parquet")
    table_format(args.out)  # an unknown suffix is refused now, not after the segmentation
    config = build_config(args)
    return _batch(args, config) if args.manifest else _single(args, config)
