"""One-channel interviews, both voices at similar levels: reference turns against ``diarize`` turns (issue 22).

    python benchmarks/one_channel.py [--corpora rv syn] [--seeds 0 1 2 3 4] [--json docs/one_channel/NAME.json]
    python benchmarks/one_channel.py --smoke          # tiny corpora, one seed, 3 folds: checks the path only

Acceptance line (issue 22): on a one-channel version of the corpus where both voices are at similar levels
(no transcript given to the pipeline), the recipe's bag AUC and turn localisation with ``diarize`` turns
come within 0.03 of the same corpus with its reference turns.

Corpora (development-style: seeds and voices no held-out cell of ``suite.py`` uses; the real-voice corpus
takes the even speakers, as the suite's development cells do). Each is the generator's default recipe with
one change: the interviewer is put in at the participant's level (``bleed_db`` uniform(-3, +3) dB) without
the 3.4 kHz low-pass the generators give close-talk bleed (``bleed_lowpass: false``), i.e. one shared
microphone. ``rv``: real LibriSpeech voices (``corpora/realvoice``; the suite's development size, two
interviews per speaker at most: the 24 even speakers give ~28 interviews); ``syn``: synthesised speech
(``corpora/synthetic``, piper + Praat; every voice, the interviewer's included, is the one piper voice
re-pitched and re-formanted, each interview under its own recording conditions).

Two experiments per corpus, the same recipe (``recipes/synthetic/conf/default.yaml``: the default preset,
prosody + Whisper tiny.en embeddings) on the same corpus folder: ``reference`` (``segmentation.source:
auto``: the DAIC-WOZ-layout transcript gives the turns, as the suite does) and ``diarize``
(``segmentation.source: diarize``: turns from the audio alone; the transcript is not read; the ASR text
of the diarize turns is switched off where the segmentation config has it, since no feature reads it).
A third, diagnostic experiment, ``diarize_named``, is ``diarize`` with the participant's voice named in
the manifest (``participant_speaker``: the diarized voice that overlaps the reference participant lines
most, what a user gets with ``--participant``), separating "which voice is the participant" from "who spoke
when"; the cues' own choice and margin per interview are reported beside it. All are cross-validated on
the same interviews (those with turns in every experiment), the same seeds and hence the same grouped
stratified folds. Figures: bag AUC (mean over folds per seed, then mean ± sd over seeds,
as the suite), pooled out-of-fold AUC, turn-localisation AUC (turn weights in depressed test interviews
against the planted marker answers, each turn matched to the answer it overlaps most:
``experiment.dataset.marker_truth``), and the paired per-seed differences (diarize - reference).

Segmentation figures against the reference transcript lines (pooled over interviews, time-weighted):
interviewer contamination (share of turn time that is interviewer line time), participant recall (share
of participant line time inside turns), participant chosen (turns overlap the participant's lines more
than the interviewer's), answers kept (share of answers, ``ground_truth/turns.csv``, with at least half
their time in turns; marker answers apart), turns holding more than one answer / no answer (>= 0.2 s
overlap). Research benchmark on synthetic and manipulated speech: it says nothing about clinical use.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diarization import intersect, run_info, total  # noqa: E402
from suite import corpus_facts  # noqa: E402

from interview_mil.corpora.realvoice import REALVOICE_VERSION  # noqa: E402
from interview_mil.corpora.synthetic import SYNTH_VERSION  # noqa: E402
from interview_mil.data.manifest import write_manifest  # noqa: E402
from interview_mil.experiment import ExperimentDir, load_experiment_config, prepare, run_missing_stages  # noqa: E402
from interview_mil.experiment.dataset import dataset_truth, load_dataset  # noqa: E402
from interview_mil.experiment.training import classifier_params  # noqa: E402
from interview_mil.fileio import write_json  # noqa: E402
from interview_mil.mil import cross_validate  # noqa: E402
from interview_mil.segmentation import SegmentationConfig, segment_interview  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "recipes" / "synthetic" / "conf" / "default.yaml"
SPEECH = ROOT.parent / "shared" / "data" / "librispeech"
ONE_MIC = {"bleed_db": [-3.0, 3.0], "bleed_lowpass": False}  # the only change from each generator's recipe
MIN_OVERLAP_S = 0.2  # a turn holds an answer when they overlap this long
KEPT_SHARE = 0.5  # an answer is kept when at least this share of it lies in turns

# name -> (generator, generator settings); seeds differ from every suite cell (301-303, 401-403, 501-505, 601-604)
CORPORA: dict[str, tuple[str, dict]] = {
    "rv": ("realvoice", {"seed": 511, "speakers": "even", "interviews_per_speaker": 2, **ONE_MIC}),
    "syn": ("synthetic", {"seed": 311, "n_interviews": 72, "target_duration_s": 100.0, **ONE_MIC}),
}
SMOKE: dict[str, dict] = {
    "rv": {"n_interviews": 12},
    "syn": {"n_interviews": 12, "target_duration_s": 45.0},
}
SOURCES = ("reference", "diarize", "diarize_named")


def source_overrides(source: str) -> list[str]:
    """Dotted overrides of the turn source (``reference``: the recipe's ``auto``, i.e. the transcript)."""
    if source == "reference":
        return []
    out = ["segmentation.source=diarize"]
    asr = {f.name: f for f in dataclasses.fields(SegmentationConfig)}.get("asr")
    if asr is not None:  # the diarize turns' ASR text: no feature reads it, and it costs CPU
        enabled = next(f for f in dataclasses.fields(asr.default_factory()) if f.name == "enabled")
        off = "false" if "bool" in str(enabled.type) else '"off"'  # the field is in flux (bool or auto/on/off)
        out.append(f"segmentation.asr.enabled={off}")
    return out


def corpus_settings(name: str, smoke: bool) -> tuple[str, dict]:
    generator, synth = CORPORA[name]
    synth = {**synth, **(SMOKE[name] if smoke else {})}
    if generator == "realvoice":
        synth["speech_dir"] = str(SPEECH)
    return generator, synth


def experiment(name: str, source: str, work: Path, smoke: bool, folds: int | None):
    """Prepare, segment and featurize one (corpus, source) experiment (reused when done): (config, exp, s)."""
    generator, synth = corpus_settings(name, smoke)
    tag = f"{name}{'-smoke' if smoke else ''}"
    overrides = [
        f"corpus.name={generator}",
        f"corpus.root={work / ('corpus_' + tag)}",
        f"corpus.synth={json.dumps(synth)}",
        "evaluation.mode=cv",
        "evaluation.cv_splits=[train,dev,test]",
        *([f"evaluation.folds={folds}"] if folds else []),
        *source_overrides(source),
    ]
    config = load_experiment_config(CONF, overrides)
    exp = ExperimentDir(work / f"exp_{tag}_{source}")
    t0 = time.perf_counter()
    if source == "diarize_named" and not exp.manifest.exists():
        prepare(exp, config, progress=False)
        write_manifest(name_participants(exp, config), exp.manifest)
    run_missing_stages(exp, config, progress=False)
    return config, exp, time.perf_counter() - t0


def name_participants(exp: ExperimentDir, config) -> list:
    """The manifest with each interview's ``participant_speaker`` set to the diarized voice that overlaps
    the reference participant lines most (what a user gets by naming the voice: ``--participant``); the
    cues' own choice and its margin are kept in ``EXP/naming.json``."""
    interviews, naming = [], {}
    corpus = Path(config.corpus.root)
    for interview in exp.load_manifest():
        found = segment_interview(interview, config.segmentation).diarization
        par, _ = reference_lines(corpus, interview.interview_id)
        named = max(found.speakers, key=lambda s: total(intersect(par, found.regions_of(s))), default=None)
        naming[interview.interview_id] = {"cues": found.participant, "named": named, "margin": found.margin}
        interviews.append(dataclasses.replace(interview, participant_speaker=named))
    write_json(exp.root / "naming.json", naming)
    return interviews


# ---------------------------------------------------------------- segmentation against the reference


def reference_lines(corpus: Path, iid: str) -> tuple[list, list]:
    """(participant, interviewer) line spans (s) of the interview's transcript."""
    lines = pd.read_csv(corpus / f"{iid}_P" / f"{iid}_TRANSCRIPT.csv", sep="\t")
    who = lines["speaker"].str.strip().str.lower()
    spans = lambda rows: list(zip(rows["start_time"].astype(float), rows["stop_time"].astype(float)))  # noqa: E731
    return spans(lines[who == "participant"]), spans(lines[who == "ellie"])


def segmentation_figures(exp: ExperimentDir, corpus: Path, ids: list[str]) -> dict:
    """Pooled figures of the experiment's turns against the transcript lines and the answers; the
    ``*_right_voice`` figures pool only the interviews whose turns went to the participant's voice."""
    turns = exp.load_turns()
    answers = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    answers["Participant_ID"] = answers["Participant_ID"].astype(str)
    rows = []
    for iid in ids:
        hyp = [(t.start, t.end) for t in turns.get(iid, [])]
        par, itv = reference_lines(corpus, iid)
        in_par = total(intersect(par, hyp))
        mine = answers[answers["Participant_ID"] == iid]
        spans = list(zip(mine["start_time"].astype(float), mine["stop_time"].astype(float)))
        kept = [total(intersect([s], hyp)) >= KEPT_SHARE * (s[1] - s[0]) for s in spans]
        rows.append(
            {
                "n_turns": len(hyp),
                "contam": total(intersect(itv, hyp)),
                "turn_s": total(hyp),
                "recall": in_par - total(intersect(intersect(par, itv), hyp)),
                "par_s": total(par) - total(intersect(par, itv)),
                "chosen": in_par > total(intersect(itv, hyp)),
                "kept": kept,
                "kept_marker": [k for k, m in zip(kept, mine["marker"].astype(int)) if m],
                "per_turn": [sum(total(intersect([h], [s])) >= MIN_OVERLAP_S for s in spans) for h in hyp],
            }
        )
    ratio = lambda a, b: a / b if b > 0 else float("nan")  # noqa: E731
    pool = lambda rs, k: ratio(sum(r[k] for r in rs), sum(r[{"contam": "turn_s", "recall": "par_s"}[k]] for r in rs))  # noqa: E731
    flat = lambda rs, k: [v for r in rs for v in r[k]]  # noqa: E731
    mean = lambda v: float(np.mean(v)) if len(v) else float("nan")  # noqa: E731
    per_turn, right = flat(rows, "per_turn"), [r for r in rows if r["chosen"]]
    return {
        "n_turns": sum(r["n_turns"] for r in rows),
        "contamination": pool(rows, "contam"),
        "recall": pool(rows, "recall"),
        "participant_chosen": mean([r["chosen"] for r in rows]),
        "n_wrong_voice": len(rows) - len(right),
        "contamination_right_voice": pool(right, "contam"),
        "recall_right_voice": pool(right, "recall"),
        "answers_kept": mean(flat(rows, "kept")),
        "marker_answers_kept": mean(flat(rows, "kept_marker")),
        "answers_kept_right_voice": mean(flat(right, "kept")),
        "n_answers": len(flat(rows, "kept")),
        "n_marker_answers": len(flat(rows, "kept_marker")),
        "turns_multi_answer": ratio(sum(n > 1 for n in per_turn), len(per_turn)),
        "turns_no_answer": ratio(sum(n == 0 for n in per_turn), len(per_turn)),
    }


# ---------------------------------------------------------------- evaluation


def evaluate(config, exp: ExperimentDir, ids: list[str], seeds: list[int], n_jobs: int) -> dict:
    """Cross-validate the recipe on the bags of ``ids`` (in that order, so every source gets the same folds)."""
    data = load_dataset(exp, config)
    truth = dataset_truth(data, config)
    where = {str(b.interview_id): k for k, b in enumerate(data.bags)}
    lab = np.asarray([where[i] for i in ids], dtype=int)
    t0 = time.perf_counter()
    res = cross_validate(
        data.X(lab),
        data.labels(lab),
        data.groups(lab),
        classifier_params(config),
        folds=config.evaluation.folds,
        seeds=seeds,
        feature_names=data.feature_names,
        instance_truth=None if truth is None else [truth[k] for k in lab],
        n_jobs=n_jobs,
    )
    y = data.labels(lab)
    flags = [truth[k] for k, label in zip(lab, y) if label == 1] if truth is not None else []
    return {
        "bag_auc": res.seed_summary["auc"],
        "bag_auc_pooled": res.summary["per_repeat"]["auc"],
        "turn_auc": res.seed_summary.get("localisation_auc"),
        "per_seed": [
            {"seed": s["seed"], "bag_auc": s["auc"], "turn_auc": s.get("localisation_auc", float("nan"))}
            for s in res.per_seed
        ],
        "n_interviews": len(lab),
        "n_depressed": int(y.sum()),
        "n_turns": int(sum(len(data.bags[k].turns) for k in lab)),
        "marker_turns_in_depressed": int(sum(f.sum() for f in flags)),
        "turns_in_depressed": int(sum(len(f) for f in flags)),
        "n_features": len(data.feature_names),
        "cv_seconds": round(time.perf_counter() - t0, 1),
    }


def paired(ref: dict, dia: dict, key: str) -> dict:
    """Per-seed differences diarize - reference of ``key``: mean, sd and each seed's value."""
    d = [b[key] - a[key] for a, b in zip(ref["per_seed"], dia["per_seed"])]
    return {
        "mean": float(np.mean(d)),
        "sd": float(np.std(d, ddof=1)) if len(d) > 1 else float("nan"),
        "max_abs": float(np.max(np.abs(d))),
        "per_seed": d,
    }


def run_corpus(name: str, args: argparse.Namespace, work: Path) -> dict:
    exps, prep = {}, {}
    for source in SOURCES:
        config, exp, seconds = experiment(name, source, work, args.smoke, args.folds)
        exps[source], prep[source] = (config, exp), round(seconds, 1)
    corpus = Path(exps["reference"][0].corpus.root)
    info = json.loads((corpus / "ground_truth" / "corpus.json").read_text())
    labelled = {}
    for source, (_config, exp) in exps.items():
        turns = exp.load_turns()
        labelled[source] = [
            i.interview_id for i in exp.load_manifest() if i.label is not None and turns.get(i.interview_id)
        ]
    ids = [i for i in labelled["reference"] if all(i in set(v) for v in labelled.values())]
    dropped = {s: sorted(set(v) - set(ids)) for s, v in labelled.items()}
    out = {
        "corpus": name,
        "generator": info.get("generator", "synthetic"),
        "generator_version": info.get("generator_version"),
        "corpus_config": info.get("config"),
        "planted_ceiling_auc": None,
        "seconds_of_audio": info.get("seconds_of_audio"),
        "n_interviews_corpus": info.get("n_interviews"),
        "n_interviews_evaluated": len(ids),
        "dropped_without_turns": dropped,
        "prep_seconds": prep,
        "sources": {},
    }
    for source, (config, exp) in exps.items():
        figures = evaluate(config, exp, ids, args.seeds, args.jobs)
        figures["segmentation"] = segmentation_figures(exp, corpus, ids)
        figures["turn_source_used"] = sorted(set(json.loads(exp.segment_report.read_text())["sources"].values()))
        out["sources"][source] = figures
    labels = {i.interview_id: int(i.label) for i in exps["reference"][1].load_manifest() if i.interview_id in ids}
    facts = corpus_facts(corpus, labels)  # the suite's planted ceiling: AUC of summed marker strengths
    out["planted_ceiling_auc"], out["marker_share_depressed"] = (
        facts["planted_ceiling"],
        facts["marker_share_depressed"],
    )
    naming = json.loads((exps["diarize_named"][1].root / "naming.json").read_text())
    right = [v["margin"] for k, v in naming.items() if k in labels and v["cues"] == v["named"]]
    wrong = [v["margin"] for k, v in naming.items() if k in labels and v["cues"] != v["named"]]
    out["participant_choice"] = {
        "n_right": len(right),
        "n_wrong": len(wrong),
        "median_margin_right": float(np.median(right)) if right else float("nan"),
        "median_margin_wrong": float(np.median(wrong)) if wrong else float("nan"),
        "per_interview": naming,
    }
    ref = out["sources"]["reference"]
    out["difference"] = {
        s: {
            "bag_auc": paired(ref, out["sources"][s], "bag_auc"),
            "turn_auc": paired(ref, out["sources"][s], "turn_auc"),
        }
        for s in SOURCES[1:]
    }
    return out


def print_corpus(r: dict) -> None:
    fmt = lambda s: f"{s['mean']:.3f} ± {s['sd']:.3f}"  # noqa: E731
    print(
        f"\n{r['corpus']} ({r['generator']} v{r['generator_version']}, {r['n_interviews_evaluated']} interviews, "
        f"{r['seconds_of_audio']:.0f} s of audio, planted ceiling {r['planted_ceiling_auc']:.3f})"
    )
    print(
        f"{'turns':>13} | {'bag AUC':>13} | {'pooled AUC':>13} | {'turn AUC':>13} | contam | recall | "
        "answers kept (marker) | multi/none | chosen"
    )
    for source, f in r["sources"].items():
        s = f["segmentation"]
        print(
            f"{source:>13} | {fmt(f['bag_auc'])} | {fmt(f['bag_auc_pooled'])} | {fmt(f['turn_auc'])} | "
            f"{s['contamination']:.3f}  | {s['recall']:.3f}  | {s['answers_kept']:.3f} ({s['marker_answers_kept']:.3f})"
            f"         | {s['turns_multi_answer']:.2f}/{s['turns_no_answer']:.2f}  | {s['participant_chosen']:.3f}"
            f"  (right voice only: contam {s['contamination_right_voice']:.3f}, recall {s['recall_right_voice']:.3f},"
            f" answers kept {s['answers_kept_right_voice']:.3f})"
        )
    for source, d in r["difference"].items():
        print(
            f"{source} - reference: bag AUC {d['bag_auc']['mean']:+.3f} ± {d['bag_auc']['sd']:.3f} (max |d| "
            f"{d['bag_auc']['max_abs']:.3f}), turn AUC {d['turn_auc']['mean']:+.3f} ± {d['turn_auc']['sd']:.3f} "
            f"(max |d| {d['turn_auc']['max_abs']:.3f})"
        )
    c = r["participant_choice"]
    print(
        f"participant voice chosen by the cues: {c['n_right']} right (median margin {c['median_margin_right']:.2f}),"
        f" {c['n_wrong']} wrong (median margin {c['median_margin_wrong']:.2f})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpora", nargs="+", choices=list(CORPORA), default=list(CORPORA))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--smoke", action="store_true", help="12-interview corpora, seed 0, 3 folds")
    p.add_argument("--folds", type=int, default=None, help="CV folds (default: the recipe's, 5)")
    p.add_argument("--work", default="runs/one_channel", help="corpora and experiment folders (reused)")
    p.add_argument("--json", dest="json_out", help="write the results here")
    p.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel worker processes")
    args = p.parse_args(argv)
    if args.smoke:
        args.seeds, args.folds = args.seeds[:1], args.folds or 3
    work = Path(args.work).resolve()
    print("Synthetic and manipulated speech; research benchmark, not a clinical result.", file=sys.stderr)
    t0 = time.perf_counter()
    results = {
        "benchmark": "one_channel",
        "run": run_info(),
        "generator_versions": {"synthetic": SYNTH_VERSION, "realvoice": REALVOICE_VERSION},
        "recipe": str(CONF.relative_to(ROOT)),
        "seeds": args.seeds,
        "folds": args.folds or 5,
        "smoke": args.smoke,
        "one_mic_change": ONE_MIC,
        "corpora": [],
    }
    for name in args.corpora:
        results["corpora"].append(run_corpus(name, args, work))
        print_corpus(results["corpora"][-1])
        results["total_seconds"] = round(time.perf_counter() - t0, 1)
        if args.json_out:
            write_json(args.json_out, results)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
