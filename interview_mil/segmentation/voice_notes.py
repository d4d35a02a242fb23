"""What the quality gate says about voices: the participant choice of the ``diarize`` source, and how much
of the participant's turns another voice fills when turns came from VAD alone.

Both read ``Segmentation.diarization`` (the ``diarize`` source's own, or the one the ``vad`` source runs
beside its level split to check it). ``other_voice_share``: the share of participant-turn time that the
diarization gives to a voice other than the turns' main one; it is counted only when the two voices are
clearly distinct (mean vectors' cosine below ``SIMILAR_VOICES``: one real speaker's speech split in two
reads 0.90–0.96 on the shared LibriSpeech voices, two speakers 0.48–0.90, mostly under 0.8, a telephone call 0.88).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .record import Segmentation

NOTE_SHARE = 0.05  # another voice fills more than this share of the turns: a note
REFER_SHARE = 0.20  # ... more than this: the recording is referred, whatever the model says
SIMILAR_VOICES = 0.85  # two voices whose mean vectors' cosine is above this may be one person


@dataclass
class VoiceVerdict:
    """``notes``: lines for the quality reason; ``refer``: the turns cannot be trusted to be the
    participant's alone; ``measures``: participant voice, margin, other-voice share (for the tables)."""

    notes: list[str] = field(default_factory=list)
    refer: bool = False
    measures: dict[str, float | str] = field(default_factory=dict)


def _overlap(a: float, b: float, c: float, d: float) -> float:
    return max(0.0, min(b, d) - max(a, c))


def other_voice_share(seg: Segmentation) -> float | None:
    """Share of participant-turn time (0–1) spoken by another voice than the turns' main one; None
    without a diarization with two distinct voices."""
    d = seg.diarization
    if d is None or len(d.speakers) < 2 or not seg.turns or (d.voice_similarity or 1.0) >= SIMILAR_VOICES:
        return None
    time = {s: sum(_overlap(t.start, t.end, a, b) for t in seg.turns for a, b in d.regions_of(s)) for s in d.speakers}
    total = sum(t.end - t.start for t in seg.turns)
    main = max(time, key=time.get)
    return float(sum(v for s, v in time.items() if s != main) / max(total, 1e-9))


def voice_verdict(seg: Segmentation, participant_margin: float = 0.5) -> VoiceVerdict:
    """The notes, refer flag and measures for one segmented recording."""
    out = VoiceVerdict()
    d = seg.diarization
    if d is None:
        return out
    n = len(d.speakers)
    out.measures["voices"] = n
    if d.voice_similarity is not None:
        out.measures["voice_similarity"] = round(d.voice_similarity, 3)
    if seg.source == "diarize" and d.participant is not None:
        out.measures.update(participant_voice=d.participant, participant_chosen_by=d.chosen_by)
        if d.chosen_by == "cues":
            out.measures["participant_margin"] = round(d.margin, 2)
        if n > 1 and d.chosen_by == "cues" and d.margin < participant_margin:
            out.notes.append(
                f"participant uncertain: voice {d.participant} of {n} chosen with margin {d.margin:.2f} "
                f"(clear from {participant_margin:g}); check `interview-mil segment --write-rttm` and choose "
                "with --participant"
            )
        if n > 1 and (d.voice_similarity or 0.0) >= SIMILAR_VOICES:
            out.notes.append(
                f"two similar voices (cosine {d.voice_similarity:.2f}): if only the participant speaks, "
                "score with --source vad"
            )
        return out
    share = other_voice_share(seg)
    if share is None:
        return out
    out.measures["other_voice_share"] = round(share, 3)
    if share >= NOTE_SHARE:
        out.notes.append(
            f"another voice in the participant's turns: about {100 * share:.0f} % of turn time (speaker-encoder "
            f"estimate; the {seg.source} source cannot separate speakers: use --source diarize, a transcript or RTTM)"
        )
    out.refer = share >= REFER_SHARE
    return out
