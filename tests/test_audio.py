import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from interview_mil.data import audio_info, load_audio, write_audio
from interview_mil.errors import AudioError


def _dominant_freq(x, sr=16_000):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)]


@pytest.mark.parametrize(
    "suffix, subtype",
    [(".wav", "PCM_16"), (".wav", "FLOAT"), (".flac", "PCM_16"), (".ogg", "VORBIS")],
)
def test_formats_load_as_float32_mono_16k(tmp_path, suffix, subtype):
    path = tmp_path / f"a{suffix}"
    sf.write(path, tone(440, 1.0, sr=16_000), 16_000, subtype=subtype)
    x = load_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1 and len(x) == 16_000
    assert abs(_dominant_freq(x) - 440) < 2


def test_mp3_where_supported(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    path = tmp_path / "a.mp3"
    sf.write(path, tone(440, 1.0, sr=16_000), 16_000, format="MP3", subtype="MPEG_LAYER_III")
    x = load_audio(path)
    assert abs(len(x) - 16_000) < 2000 and abs(_dominant_freq(x) - 440) < 5


@pytest.mark.parametrize("sr", [8_000, 22_050, 44_100, 48_000])
def test_any_rate_is_resampled_to_16k(tmp_path, sr):
    path = tmp_path / "a.wav"
    sf.write(path, tone(300, 2.0, sr=sr), sr)
    x = load_audio(path)
    assert abs(len(x) - 32_000) <= 1
    assert abs(_dominant_freq(x) - 300) < 2
    assert 0.25 < np.abs(x[1000:-1000]).max() < 0.35


def test_channels_mix_or_select(tmp_path):
    path = tmp_path / "st.wav"
    stereo = np.stack([tone(200, 1.0), tone(500, 1.0)], axis=1)
    sf.write(path, stereo, 16_000)
    assert audio_info(path).channels == 2
    assert abs(_dominant_freq(load_audio(path, channel=0)) - 200) < 2
    assert abs(_dominant_freq(load_audio(path, channel=1)) - 500) < 2
    np.testing.assert_allclose(load_audio(path), stereo.mean(axis=1), atol=1e-4)
    with pytest.raises(AudioError, match="channel 2 does not exist"):
        load_audio(path, channel=2)


@pytest.mark.parametrize("sr", [16_000, 44_100, 8_000, 22_050, 48_000])
def test_span_equals_slice_of_whole(tmp_path, sr):
    rng = np.random.default_rng(1)
    sig = (0.1 * rng.standard_normal(sr * 5)).astype(np.float32)
    sig = np.convolve(sig, np.ones(8) / 8, mode="same").astype(np.float32)  # keep it below 8 kHz
    path = tmp_path / "a.wav"
    sf.write(path, sig, sr, subtype="FLOAT")
    whole = load_audio(path)
    span = load_audio(path, start=1.25, end=3.5)
    assert len(span) == int(2.25 * 16_000)
    ref = whole[20_000:56_000]
    # resampled spans start on the grid where both rates have a sample: the same samples as the whole file's
    # resampling, to float rounding, up to the span's first and last sample (off the grid: errors of 2e-3)
    assert np.abs(span - ref).max() < 1e-5
    odd = load_audio(path, start=1.23456, end=2.34567)
    a, b = int(np.floor(1.23456 * 16_000)), int(np.ceil(2.34567 * 16_000))
    assert len(odd) == b - a and np.abs(odd - whole[a:b]).max() < 1e-5


def test_span_reads_only_what_it_needs(tmp_path, monkeypatch):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16_000 * 60, dtype=np.float32), 16_000)
    calls = []
    real_read = sf.SoundFile.read

    def spy(self, frames=-1, *a, **k):
        calls.append(frames)
        return real_read(self, frames, *a, **k)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    load_audio(path, start=30.0, end=31.0)
    assert calls == [16_000]


def test_missing_empty_and_garbage_files_name_the_file(tmp_path):
    with pytest.raises(AudioError, match="not found") as err:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(err.value)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty") as err:
        load_audio(empty)
    assert "empty.wav" in str(err.value)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError, match="cannot read audio") as err:
        load_audio(junk)
    assert "junk.wav" in str(err.value) and "fix:" in str(err.value)
    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(zero)


def test_nan_samples_and_bad_spans_are_errors(tmp_path):
    path = tmp_path / "nan.wav"
    x = tone(200, 1.0)
    x[100] = np.nan
    sf.write(path, x, 16_000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)
    ok = tmp_path / "ok.wav"
    sf.write(ok, tone(200, 1.0), 16_000)
    with pytest.raises(AudioError, match="after the end"):
        load_audio(ok, start=5.0, end=6.0)
    with pytest.raises(AudioError, match="invalid span"):
        load_audio(ok, start=0.5, end=0.2)


def test_write_audio_is_atomic_and_readable(tmp_path):
    path = write_audio(tmp_path / "sub" / "w.flac", tone(100, 0.5))
    assert audio_info(path).format == "FLAC" and audio_info(path).duration == 0.5
    assert [p.name for p in path.parent.iterdir()] == ["w.flac"]


def test_a_truncated_wav_is_refused_not_read_as_the_whole_interview(tmp_path):
    """A copy cut to half its bytes still has a header saying 30 s; libsndfile reads the 15 s that are there
    without a word, so the file would be scored as if it were the whole interview."""
    whole = tmp_path / "whole.wav"
    sf.write(whole, 0.1 * np.sin(np.arange(30 * 16_000) / 10.0), 16_000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert audio_info(whole).duration == pytest.approx(30.0)
    with pytest.raises(AudioError, match=r"cut\.wav.*truncated.*30\.0 s.*15\.0 s") as err:
        audio_info(cut)
    assert "copy or export the recording again" in str(err.value)
    # a streaming writer's unknown length (0xFFFFFFFF) is not called truncated
    data = bytearray(whole.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = b"\xff\xff\xff\xff"
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(bytes(data))
    assert audio_info(streamed).duration == pytest.approx(30.0, abs=0.01)


def test_a_file_without_read_permission_is_named_as_such(tmp_path, monkeypatch):
    """Not "convert it to WAV": the file may be fine, this user cannot open it. (Tests run as root, whom
    permissions do not stop, so the operating system's refusal is simulated.)"""
    import builtins

    path = tmp_path / "locked.wav"
    sf.write(path, np.zeros(16_000), 16_000)
    real_open = builtins.open

    def refuse(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    with pytest.raises(AudioError, match=r"locked\.wav.*permission denied") as err:
        audio_info(path)
    assert "convert" not in str(err.value) and "read permission" in str(err.value)
