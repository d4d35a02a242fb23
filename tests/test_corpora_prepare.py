"""Corpus preparers on miniature fake corpora in the exact layouts of DAIC-WOZ, E-DAIC and a folder."""

import numpy as np
import pytest
import soundfile as sf

from interview_mil.corpora import prepare_daic_woz, prepare_e_daic, prepare_folder
from interview_mil.data import read_manifest
from interview_mil.errors import ManifestError
from interview_mil.fileio import read_json
from interview_mil.segmentation import SegmentationConfig, segment_interview

PHQ = "PHQ8_NoInterest,PHQ8_Depressed,PHQ8_Sleep,PHQ8_Tired,PHQ8_Appetite,PHQ8_Failure,PHQ8_Concentrating,PHQ8_Moving"


def _wav(path, seconds=4.0, sr=16_000, bursts=((1.0, 2.0),)):
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.zeros(int(seconds * sr), dtype=np.float32)
    t = np.arange(len(x)) / sr
    for a, b in bursts:
        m = (t >= a) & (t < b)
        x[m] = 0.3 * np.sin(2 * np.pi * 150 * t[m]) * np.sin(2 * np.pi * 3 * t[m]) ** 2
    sf.write(path, x, sr)


def _transcript(path, lines):
    path.write_text(
        "start_time\tstop_time\tspeaker\tvalue\n" + "".join(f"{a}\t{b}\t{s}\t{v}\n" for a, b, s, v in lines)
    )


@pytest.fixture
def daic(tmp_path):
    root = tmp_path / "daic"
    (root).mkdir()
    (root / "train_split_Depression_AVEC2017.csv").write_text(
        f"Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,{PHQ}\n303,0,0,0,0,0,0,0,0,0,0,0\n318,1,12,1,2,2,2,2,2,2,0,0\n"
    )
    (root / "dev_split_Depression_AVEC2017.csv").write_text(
        f"Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,{PHQ}\n409,0,10,1,2,2,2,2,2,0,0,0\n410,0,3,0,1,1,1,0,0,0,0,0\n"
    )
    (root / "test_split_Depression_AVEC2017.csv").write_text("participant_ID,Gender\n300,1\n301,0\n")
    (root / "full_test_split.csv").write_text("Participant_ID,PHQ_Binary,PHQ_Score,Gender\n300,1,15,1\n301,0,2,0\n")
    for pid in (303, 409, 300, 301):
        _wav(root / f"{pid}_P" / f"{pid}_AUDIO.wav")
        _transcript(
            root / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv",
            [(0.2, 0.8, "Ellie", "how are you"), (1.0, 2.0, "Participant", "fine thanks")],
        )
    # 318: the transcript is 34.319917 s behind the audio (a known DAIC-WOZ defect)
    _wav(root / "318_P" / "318_AUDIO.wav", seconds=40.0, bursts=((35.32, 36.32),))
    _transcript(root / "318_P" / "318_TRANSCRIPT.csv", [(0.2, 0.8, "Ellie", "hi"), (1.0, 2.0, "Participant", "hello")])
    (root / "410_P.zip").write_bytes(b"PK")  # still zipped: must be reported, not crash
    return root


def test_daic_woz_manifest(daic, tmp_path):
    manifest = {i.interview_id: i for i in read_manifest(prepare_daic_woz(daic, tmp_path / "out"))}
    assert sorted(manifest) == ["300", "301", "303", "318", "409"]
    assert manifest["409"].label == 1 and manifest["409"].phq8_score == 10  # label fix
    assert (manifest["300"].split, manifest["300"].label, manifest["300"].phq8_score) == ("test", 1, 15.0)
    assert manifest["303"].gender == "F" and manifest["318"].gender == "M"
    assert manifest["318"].duration == pytest.approx(40.0)
    assert all(i.corpus == "daic_woz" and i.transcript_path for i in manifest.values())
    report = read_json(tmp_path / "out" / "prepare_report.json")
    assert any("410" in s and "zipped" in s for s in report["skipped"])


def test_daic_woz_without_full_test_labels(daic, tmp_path):
    (daic / "full_test_split.csv").unlink()
    manifest = {i.interview_id: i for i in read_manifest(prepare_daic_woz(daic, tmp_path / "o"))}
    assert manifest["300"].label is None and manifest["300"].split == "test"


def test_daic_woz_sync_offset_reaches_the_turns(daic, tmp_path):
    manifest = {i.interview_id: i for i in read_manifest(prepare_daic_woz(daic, tmp_path / "o"))}
    turns = segment_interview(manifest["318"], SegmentationConfig()).turns
    assert len(turns) == 1 and turns[0].start == pytest.approx(35.32, abs=0.05)


def test_daic_woz_missing_split_file(daic, tmp_path):
    (daic / "train_split_Depression_AVEC2017.csv").unlink()
    with pytest.raises(ManifestError, match="train_split_Depression_AVEC2017.csv"):
        prepare_daic_woz(daic, tmp_path / "o")


def test_daic_woz_participant_in_two_splits(daic, tmp_path):
    with open(daic / "dev_split_Depression_AVEC2017.csv", "a") as f:
        f.write("303,0,0,0,0,0,0,0,0,0,0,0\n")
    with pytest.raises(ManifestError, match="more than one split"):
        prepare_daic_woz(daic, tmp_path / "o")


def test_e_daic_nested_and_flat(tmp_path):
    root = tmp_path / "edaic"
    (root / "labels").mkdir(parents=True)
    header = "Participant_ID,Gender,PHQ_Binary,PHQ_Score,PCL-C (PTSD),PTSD Severity\n"
    (root / "labels" / "train_split.csv").write_text(header + "300,male,0,4,0,20\n301,female,1,14,1,50\n")
    (root / "labels" / "dev_split.csv").write_text(header + "600,female,1,20,0,30\n")
    (root / "labels" / "test_split.csv").write_text(header + "700,male,0,1,0,10\n")
    _wav(root / "300_P" / "300_P" / "300_AUDIO.wav")  # nested
    (root / "300_P" / "300_P" / "300_Transcript.csv").write_text(
        "Start_Time,End_Time,Text,Confidence\n1.0,2.0,fine thanks,0.93\n"
    )
    _wav(root / "301_P" / "301_AUDIO.wav")  # flat
    _wav(root / "600_P" / "600_P" / "600_AUDIO.wav", sr=8_000)  # another rate
    manifest = {i.interview_id: i for i in read_manifest(prepare_e_daic(root, tmp_path / "o"))}
    assert sorted(manifest) == ["300", "301", "600"]
    assert manifest["300"].transcript_path.endswith("300_Transcript.csv")
    assert manifest["301"].transcript_path is None and manifest["301"].label == 1
    assert (manifest["300"].gender, manifest["301"].gender) == ("M", "F")
    assert manifest["600"].split == "dev" and manifest["600"].phq8_score == 20
    report = read_json(tmp_path / "o" / "prepare_report.json")
    assert any(s.startswith("700") for s in report["skipped"])


def test_folder_groups_participants_and_derives_labels(tmp_path):
    audio = tmp_path / "rec"
    rows = ["file,subject,phq8"]
    for k in range(12):
        for visit in ("a", "b"):
            _wav(audio / f"s{k}{visit}.flac", seconds=2.0)
            rows.append(f"s{k}{visit},subj{k},{2 * k}")
    (audio / "s0a.rttm").write_text("SPEAKER s0a 1 0.5 1.0 <NA> <NA> P <NA> <NA>\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    manifest = read_manifest(
        prepare_folder(
            audio,
            labels,
            tmp_path / "o",
            id_column="file",
            label_column=None,
            score_column="phq8",
            participant_column="subject",
            participant_speaker="P",
        )
    )
    assert len(manifest) == 24
    split_of = {}
    for i in manifest:
        assert split_of.setdefault(i.participant_id, i.split) == i.split
        assert i.label == int(i.phq8_score >= 10)
    assert {i.split for i in manifest} == {"train", "dev", "test"}
    s0a = next(i for i in manifest if i.interview_id == "s0a")
    assert s0a.rttm_path.endswith("s0a.rttm") and s0a.participant_speaker == "P"


def test_folder_missing_column_names_the_file(tmp_path):
    (tmp_path / "rec").mkdir()
    labels = tmp_path / "labels.csv"
    labels.write_text("id,score\nx,3\n")
    with pytest.raises(ManifestError, match="missing column") as err:
        prepare_folder(tmp_path / "rec", labels, tmp_path / "o")
    assert "labels.csv" in str(err.value)
