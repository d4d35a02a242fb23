"""The interview head (mil.hybrid): one scale for the functionals logit, positive stacking weights."""

import numpy as np

from interview_mil.mil import InterviewClassifier, hybrid
from interview_mil.mil.peers import FunctionalsBaseline


def _global_shift_bags(n=36, seed=0):
    """Every turn of a positive interview slightly shifted: speaker-relative turns cannot see it."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    bags = [rng.normal(size=(int(rng.integers(6, 12)), 4)) + 0.9 * label for label in y]
    return bags, y


def test_the_functionals_strength_is_chosen_once_and_kept_in_the_inner_folds(monkeypatch):
    seen = []
    real = FunctionalsBaseline.fit.__func__

    def spy(cls, bags, y, groups=None, seed=0, C=None):
        fitted = real(cls, bags, y, groups, seed, C)
        seen.append((C, fitted.C))
        return fitted

    monkeypatch.setattr(hybrid.FunctionalsBaseline, "fit", classmethod(spy))
    bags, y = _global_shift_bags()
    params = dict(hidden=(8,), max_epochs=5, val_fraction=0.0, interview_head=True, select_folds=3)
    InterviewClassifier(**params, speaker_relative="replace").fit(bags, y, groups=np.arange(len(y)))
    (first_c, chosen), *inner = seen
    assert first_c is None and len(inner) == 3  # chosen by inner CV on all training bags, then kept
    assert all(c == chosen and got == chosen for c, got in inner)


def test_stacking_weights_are_never_negative_and_a_blind_network_is_left_out():
    bags, y = _global_shift_bags(48)
    clf = InterviewClassifier(
        hidden=(8,), max_epochs=10, val_fraction=0.0, interview_head=True, speaker_relative="replace", seed=1
    ).fit(bags, y, groups=np.arange(len(y)))
    for name, cand in clf.head_.candidates.items():
        assert cand["weights"][0] >= 0 and cand["weights"][1] >= 0, name
    assert clf.head_.choice in ("global", "stacked")
    assert clf.head_.candidates["global"]["inner_auc"] > 0.8  # the shift is there at the interview level


def test_the_functionals_model_leaves_embedding_columns_out():
    assert hybrid.functionals_columns(["f0_sd", "emb_0", "emb_1", "pause"]) == [0, 3]
    assert hybrid.functionals_columns(["emb_0", "emb_1"]) is None  # nothing else: all
    assert hybrid.functionals_columns(None) is None


def test_the_one_standard_error_rule_keeps_the_simplest_option_within_the_noise():
    se = hybrid.auc_standard_error(0.9, 16, 16)
    assert 0.04 < se < 0.07  # Hanley & McNeil for 16 + 16 bags
    assert hybrid.auc_standard_error(0.9, 160, 160) < se / 3
    close = {"global": 0.86, "stacked": 0.90, "mil": 0.88}  # 0.04 apart: within one SE on 32 bags
    assert hybrid.one_standard_error_choice(close, 16, 16) == "global"
    assert hybrid.one_standard_error_choice(close, 400, 400) == "stacked"  # the same gap on many bags
    far = {"global": 0.70, "stacked": 0.97, "mil": 0.95}
    assert hybrid.one_standard_error_choice(far, 16, 16) == "stacked"
    assert hybrid.one_standard_error_choice({"global": float("nan"), "stacked": 0.8, "mil": 0.6}, 8, 8) == "stacked"
