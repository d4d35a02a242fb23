"""Property tests: whatever the input, turns never overlap, never leave the recording and keep their order."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interview_mil.data import Interview, validate
from interview_mil.segmentation import (
    BleedConfig,
    RefineConfig,
    SegmentationConfig,
    TurnConfig,
    VadConfig,
    detect_speech,
    turns_from_vad,
)
from interview_mil.segmentation.refine import make_turns, refine_spans
from interview_mil.segmentation.spans import Line, spans_from_lines

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(turns, duration, max_length=None):
    for a, b in zip(turns, turns[1:]):
        assert a.end <= b.start + 1e-9, (a, b)  # no overlap, kept in order
    for k, t in enumerate(turns):
        assert t.turn_index == k and t.duration > 0
        assert -1e-9 <= t.start and t.end <= duration + 1e-9
        if max_length is not None:
            assert t.duration <= max_length + 1e-6
        if t.n_pauses is not None:
            assert 0 <= t.pause_time <= t.duration + 1e-9 and t.longest_pause <= t.pause_time + 1e-9
    validate(Interview(turns[0].interview_id if turns else "x", "x.wav", duration=duration), turns)


line_strategy = st.tuples(st.floats(0, 95), st.floats(0.01, 15), st.sampled_from(["participant", "interviewer"]))


@FAST
@given(
    rows=st.lists(line_strategy, max_size=30),
    merge_gap=st.floats(0, 10),
    speech=st.lists(st.tuples(st.floats(0, 99), st.floats(0.05, 5)), max_size=30),
    max_length=st.one_of(st.none(), st.floats(1, 30)),
)
def test_turns_from_lines(rows, merge_gap, speech, max_length):
    lines = [Line(a, min(a + d, 100.0), role, f"w{k}", k) for k, (a, d, role) in enumerate(rows)]
    regions = []
    for a, d in sorted(speech):  # ordered, disjoint speech regions
        a = max(a, regions[-1][1] + 0.01) if regions else a
        if a + d <= 100.0:
            regions.append((a, a + d))
    spans = refine_spans(spans_from_lines(lines, merge_gap), regions, RefineConfig())
    turns = make_turns("iv", spans, regions, RefineConfig(), max_length, "stm")
    _check(turns, 100.0, max_length)
    participant = [l for l in lines if l.role == "participant"]
    assert len({t.parent_turn_id or t.turn_id for t in turns}) <= len(participant)
    if not regions and max_length is None:  # nothing trimmed or split: every participant line is covered
        for line in participant:
            assert any(t.start <= line.start + 1e-4 and line.end <= t.end + 1e-4 for t in turns)  # 0.1 ms rounding


burst = st.tuples(st.floats(0, 9.5), st.floats(0.02, 3), st.floats(-60, -3))


@FAST
@given(
    bursts=st.lists(burst, max_size=12),
    seed=st.integers(0, 2**16),
    vad=st.sampled_from(["energy", "webrtc"]),
    split_pause=st.floats(0.1, 5),
    max_length=st.one_of(st.none(), st.floats(1, 8)),
    bleed=st.booleans(),
)
def test_turns_from_audio(bursts, seed, vad, split_pause, max_length, bleed):
    rng = np.random.default_rng(seed)
    sr, duration = 16_000, 10.0
    x = rng.normal(0, 10 ** (-70 / 20), int(sr * duration))
    for start, length, level in bursts:  # noise bursts at random levels (interviewer-like when quiet)
        a, b = int(start * sr), min(int((start + length) * sr), len(x))
        x[a:b] += rng.normal(0, 10 ** (level / 20), b - a) * np.hanning(b - a)
    cfg = SegmentationConfig(
        vad=VadConfig(name=vad),
        bleed=BleedConfig(enabled=bleed),
        turns=TurnConfig(split_pause=split_pause, max_length=max_length, min_turn=0.0),
    )
    activity = detect_speech(np.clip(x, -1, 1).astype(np.float32), sr, cfg.vad)
    turns = turns_from_vad(activity, "iv", cfg)
    _check(turns, duration, max_length)
    for a, b in zip(activity.regions, activity.regions[1:]):
        assert a[1] <= b[0]
