"""VAD refinement (trimming, pauses), splitting of long turns, mask smoothing and the config."""

from __future__ import annotations

import numpy as np
import pytest

from interview_mil.config import dump_yaml, load_config
from interview_mil.data import Interview, validate
from interview_mil.errors import ConfigError
from interview_mil.segmentation import RefineConfig, SegmentationConfig, VadConfig, detect_speech
from interview_mil.segmentation.refine import make_turns, pauses_in, refine_spans, split_long
from interview_mil.segmentation.regions import drop_short, extend_runs, fill_gaps, mask_to_regions, smooth
from interview_mil.segmentation.spans import Span

SPEECH = [(1.0, 2.0), (2.1, 3.0), (3.5, 4.0), (6.0, 7.0)]


def test_trimming_follows_the_speech_and_never_extends():
    spans = [Span(0.5, 4.5), Span(2.5, 6.5), Span(4.2, 5.8), Span(0.0, 10.0)]
    out = refine_spans(spans, SPEECH, RefineConfig())
    assert [(s.start, s.end) for s in out] == [(1.0, 4.0), (2.5, 6.5), (4.2, 5.8), (1.0, 7.0)]
    padded = refine_spans(spans[:1], SPEECH, RefineConfig(padding=0.2))
    assert (padded[0].start, padded[0].end) == (0.8, 4.2)
    assert refine_spans(spans, SPEECH, RefineConfig(trim=False)) == spans


def test_pauses_inside_a_turn():
    p = pauses_in(SPEECH, 0.0, 10.0, min_pause=0.25)
    assert (p.count, p.total, p.longest) == (2, 2.5, 2.0)  # 0.1 s is too short to count
    p = pauses_in(SPEECH, 0.0, 10.0, min_pause=0.1)
    assert (p.count, p.total) == (3, 2.6)
    assert pauses_in(SPEECH, 4.5, 5.5, 0.25) is None  # no speech inside: not measured


def test_long_turn_is_cut_at_pauses_into_pieces_with_their_parent():
    speech = [(float(a), a + 3.6) for a in range(0, 60, 4)]  # 3.6 s of speech, 0.4 s pauses, 0..59.6 s
    parts = tuple((a, b, f"s{int(a)}") for a, b in speech)
    span = Span(0.0, 59.6, prompt_end=-1.0, parts=parts)
    pieces = split_long(span, speech, 20.0)
    assert len(pieces) == 3 and all(p.end - p.start <= 20.0 for p in pieces)
    cut_ends = [p.end for p in pieces[:-1]]
    assert all(any(abs(e - b) < 1e-9 for _, b in speech) for e in cut_ends)  # cut inside pauses
    assert pieces[0].prompt_end == -1.0 and pieces[1].prompt_end is None
    assert " ".join(p.text for p in pieces) == span.text  # every sentence lands in exactly one piece
    turns = make_turns("iv", [span], speech, RefineConfig(), 20.0, "vad")
    assert [t.turn_id for t in turns] == ["iv_0000.0", "iv_0000.1", "iv_0000.2"]
    assert {t.parent_turn_id for t in turns} == {"iv_0000"} and [t.turn_index for t in turns] == [0, 1, 2]
    assert turns[0].response_latency == 1.0 and turns[1].response_latency is None
    assert all(t.n_pauses is not None for t in turns)
    validate(Interview("iv", "x.wav", duration=60.0), turns)


def test_long_turn_without_pauses_is_cut_evenly():
    pieces = split_long(Span(10.0, 55.0), [(10.0, 55.0)], 20.0)
    assert [(p.start, p.end) for p in pieces] == [(10.0, 25.0), (25.0, 40.0), (40.0, 55.0)]
    assert split_long(Span(10.0, 55.0), [], None) == [Span(10.0, 55.0)]


def test_short_turns_keep_no_parent():
    turns = make_turns("iv", [Span(3.0, 4.0), Span(1.0, 2.0)], None, RefineConfig(), 20.0, "stm")
    assert [t.start for t in turns] == [1.0, 3.0] and all(t.parent_turn_id is None for t in turns)
    assert all(t.n_pauses is None for t in turns)  # no audio: not measured


def test_mask_smoothing():
    m = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 0], bool)
    assert fill_gaps(m, 1).astype(int).tolist() == [0, 1, 1, 1, 1, 0, 0, 0, 1, 0]
    assert drop_short(m, 2).astype(int).tolist() == [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert extend_runs(m, 2).astype(int).tolist() == [0, 1, 1, 1, 1, 1, 1, 0, 1, 1]
    assert smooth(m, 0.0, 0.01, 0.03).astype(int).tolist() == [0, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert mask_to_regions(m) == [(0.01, 0.03), (0.04, 0.05), (0.08, 0.09)]
    assert mask_to_regions(m, limit=0.085)[-1] == (0.08, 0.085)


def test_vad_smoothing_and_edges_on_noise_bursts():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 10 ** (-70 / 20), 16_000 * 4).astype(np.float32)
    x[16_000:24_000] += rng.normal(0, 0.1, 8_000).astype(np.float32)  # 1.0-1.5 s
    x[26_000:40_000] += rng.normal(0, 0.1, 14_000).astype(np.float32)  # 1.625-2.5 s
    x[48_000:48_800] += rng.normal(0, 0.1, 800).astype(np.float32)  # a 50 ms click at 3.0 s
    cfg = VadConfig(name="energy", min_silence=0.2, min_speech=0.1)
    assert detect_speech(x, 16_000, cfg).regions == ((1.0, 2.5),)
    cfg = VadConfig(name="energy", hangover=0.0, min_silence=0.1, min_speech=0.03)
    assert detect_speech(x, 16_000, cfg).regions == ((1.0, 1.5), (1.62, 2.5), (3.0, 3.05))


def test_config_from_yaml_with_overrides(tmp_path):
    path = tmp_path / "seg.yaml"
    path.write_text("source: vad\nvad:\n  frame_ms: 20\n  aggressiveness: 3\nturns:\n  max_length: null\n")
    cfg = load_config(SegmentationConfig, path, ["bleed.margin_db=15", "refine.min_pause=0.3"])
    assert (cfg.vad.frame_ms, cfg.vad.aggressiveness, cfg.turns.max_length) == (20, 3, None)
    assert (cfg.bleed.margin_db, cfg.refine.min_pause, cfg.source) == (15.0, 0.3, "vad")
    path.write_text(dump_yaml(cfg))
    assert load_config(SegmentationConfig, path) == cfg
    for text, needle in [
        ("vad:\n  frame_ms: 25\n", "frame_ms must be one of"),
        ("vad:\n  aggressivness: 1\n", "unknown key"),
        ("vad:\n  aggressiveness: 4\n", "aggressiveness must be 0..3"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigError, match=needle):
            load_config(SegmentationConfig, path)
