"""InterviewClassifier end to end on small generated bags: planted signal, embedding projection,
bundle round trip (current and version-1 files), NaN handling, PHQ-8 head, sensitivity threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from interview_mil import __version__
from interview_mil.errors import ConfigError, FeatureError, ModelNotFoundError
from interview_mil.mil import (
    InterviewClassifier,
    group_train_val_split,
    interview_mean_baseline,
    roc_auc,
)

FAST = dict(
    hidden=(16,),
    layer_norm=False,
    attention_dim=8,
    dropout=0.0,
    input_dropout=0.0,
    max_epochs=60,
    patience=15,
    batch_size=16,
    lr=5e-3,
    weight_decay=1e-4,
)


def planted_bags(n_bags: int = 80, n_features: int = 6, seed: int = 0, shift: float = 4.0):
    """Positive bags hold exactly one planted instance (feature 0 shifted by ``shift``); returns
    (bags, y, groups, planted index per bag or -1)."""
    rng = np.random.default_rng(seed)
    bags, y, planted = [], [], []
    for i in range(n_bags):
        n = int(rng.integers(6, 15))
        bag = rng.normal(size=(n, n_features))
        label = i % 2
        k = -1
        if label:
            k = int(rng.integers(n))
            bag[k, 0] += shift
        bags.append(bag)
        y.append(label)
        planted.append(k)
    groups = np.arange(n_bags) // 2  # two bags per participant
    return bags, np.array(y), groups, np.array(planted)


@pytest.fixture(scope="module")
def planted_fit():
    bags, y, groups, planted = planted_bags()
    clf = InterviewClassifier(pooling="attention", seed=0, **FAST).fit(bags[:60], y[:60], groups[:60])
    return clf, bags, y, planted


def test_attention_ranks_the_planted_instance_first(planted_fit):
    clf, bags, y, planted = planted_fit
    test = [i for i in range(60, 80) if y[i] == 1]
    explanations = clf.explain([bags[i] for i in test])
    top = [int(np.argmax(e.weights)) for e in explanations]
    assert top == [int(planted[i]) for i in test]
    for e, i in zip(explanations, test):
        assert e.weights.shape == (len(bags[i]),) and np.isclose(e.weights.sum(), 1.0)
        assert e.instance_scores.shape == (len(bags[i]),)
    assert roc_auc(y[60:], clf.predict_proba(bags[60:])[:, 1]) > 0.95
    assert np.mean(clf.predict(bags[60:]) == y[60:]) >= 0.9  # held-out decisions are right


def test_clone_and_set_params_give_unfitted_estimators_that_honour_the_new_setting(planted_fit):
    clf, bags, y, _ = planted_fit
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "model_")
    with pytest.raises(NotFittedError):
        fresh.predict_proba(bags[:2])
    fresh.set_params(pooling="mean", max_epochs=3)
    assert fresh.get_params()["pooling"] == "mean" and clf.get_params()["pooling"] == "attention"
    fresh.fit(bags[:20], y[:20])
    ex = fresh.explain(bags[:1])[0]
    assert np.allclose(ex.weights, 1.0 / len(bags[0]))  # mean pooling: every turn counts the same


def test_leave_one_out_finds_the_planted_instance(planted_fit):
    clf, bags, y, planted = planted_fit
    i = next(i for i in range(60, 80) if y[i] == 1)
    contrib = clf.leave_one_out(bags[i])
    assert contrib.shape == (len(bags[i]),)
    assert int(np.argmax(contrib)) == planted[i] and contrib[planted[i]] > 0.1


def test_save_load_round_trip_gives_identical_predictions(planted_fit, tmp_path):
    clf, bags, _, _ = planted_fit
    clf.save(tmp_path / "model", metadata={"features": "test"})
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["package_version"] == __version__ and config["format_version"] == 2
    assert config["params"]["pooling"] == "attention" and config["metadata"] == {"features": "test"}
    loaded = InterviewClassifier.load(tmp_path / "model")
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags))
    assert np.array_equal(loaded.predict(bags), clf.predict(bags))
    assert loaded.threshold_ == clf.threshold_ and loaded.get_params() == clf.get_params()
    assert loaded.metadata_ == {"features": "test"} and list(loaded.feature_names_in_) == list(clf.feature_names_in_)
    a, b = loaded.explain(bags[:3]), clf.explain(bags[:3])
    assert all(np.array_equal(x.weights, z.weights) for x, z in zip(a, b))
    assert np.array_equal(
        InterviewClassifier.load(tmp_path / "model").predict_proba(bags[:3]), clf.predict_proba(bags[:3])
    )


def _as_version_1(directory) -> None:
    """Rewrite a bundle's config.json in the version-1 layout (fitted values at the top level and under
    ``training``; no projection), as interview-mil 0.1.0 wrote it."""
    path = directory / "config.json"
    config = json.loads(path.read_text())
    st = config.pop("state")
    config.update(
        format_version=1,
        model_config=st["model_config"],
        scaler=st["scaler"],
        threshold=st["threshold"],
        classes=st["classes"],
        training={k: st[k] for k in ("best_epoch", "n_train_bags", "n_val_bags", "history", "validation", "members")},
    )
    path.write_text(json.dumps(config))


def test_version_1_bundles_still_load_and_predict_the_same(planted_fit, tmp_path):
    clf, bags, _, _ = planted_fit
    clf.save(tmp_path / "v1", metadata={"corpus": "x"})
    _as_version_1(tmp_path / "v1")
    loaded = InterviewClassifier.load(tmp_path / "v1")
    # version 1 had no calibration: a v1 bundle gives the score before calibration
    assert loaded.calibration_ is None
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags, calibrated=False))
    assert loaded.metadata_ == {"corpus": "x"} and loaded.projection_ is None and loaded.n_features_in_ == 6


def _embedding_problem(seed: int = 0, n_bags: int = 40):
    """Two prosody-like columns and 12 embedding columns; positive bags hold one turn shifted along a
    direction of the embedding. Returns (bags, y, names)."""
    rng = np.random.default_rng(seed)
    names = ["pitch", "pause"] + [f"emb_{j:03d}" for j in range(12)]
    direction = rng.normal(size=12)
    bags, y = [], np.arange(n_bags) % 2
    for label in y:
        bag = rng.normal(size=(int(rng.integers(4, 9)), 14))
        if label:
            bag[int(rng.integers(len(bag))), 2:] += 1.5 * direction
        bags.append(bag)
    bags[3][1, 7] = np.nan  # a turn without an embedding value: left out of the PCA, NaN components
    return bags, y, names


def test_embedding_projection_equals_a_manual_pca_and_survives_the_bundle(tmp_path):
    bags, y, names = _embedding_problem()
    params = dict(FAST, max_epochs=15, seed=4)
    clf = InterviewClassifier(**params, embedding_pcs=3).fit(bags, y, feature_names=names)
    # the old two-step way: a PCA of the emb_ columns over the finite training turns, then a plain fit
    rows = np.concatenate([b[:, 2:] for b in bags])
    rows = rows[np.isfinite(rows).all(axis=1)]
    mean = rows.mean(axis=0)
    vt = np.linalg.svd(rows - mean, full_matrices=False)[2][:3]
    manual = [np.hstack([b[:, :2], (b[:, 2:] - mean) @ vt.T]).astype(np.float32) for b in bags]
    pc_names = ["pitch", "pause", "emb_pc01", "emb_pc02", "emb_pc03"]
    two_step = InterviewClassifier(**params).fit(manual, y, feature_names=pc_names)
    assert np.allclose(clf.predict_proba(bags), two_step.predict_proba(manual), atol=1e-6)
    assert clf.threshold_ == pytest.approx(two_step.threshold_)
    assert list(clf.feature_names_in_) == names and clf.n_features_in_ == 14
    assert list(clf.get_feature_names_out()) == pc_names
    projected = clf.transform(bags)
    assert np.allclose(np.nan_to_num(projected[3], nan=99), np.nan_to_num(manual[3], nan=99), atol=1e-5)
    assert np.isnan(projected[3][1, 2:]).all() and np.isfinite(clf.predict_proba(bags)).all()
    clf.save(tmp_path / "pca")
    loaded = InterviewClassifier.load(tmp_path / "pca")
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags))
    assert np.array_equal(loaded.explain(bags[:2])[1].weights, clf.explain(bags[:2])[1].weights)
    assert np.array_equal(loaded.leave_one_out(bags[1]), clf.leave_one_out(bags[1]))
    with pytest.raises(FeatureError, match="model expects 14"):
        loaded.predict_proba(manual[:1])  # projected columns are not the model's input


def test_without_embedding_columns_or_names_there_is_no_projection():
    bags, y, names = _embedding_problem(1, 20)
    plain = [b[:, :2] for b in bags]
    clf = InterviewClassifier(**dict(FAST, max_epochs=2), embedding_pcs=3).fit(plain, y, feature_names=names[:2])
    assert clf.projection_ is None and np.array_equal(clf.transform(plain)[0], plain[0])
    clf = InterviewClassifier(**dict(FAST, max_epochs=2), embedding_pcs=3).fit(bags, y)
    assert clf.projection_ is None and clf.n_features_in_ == 14


def test_loading_a_missing_bundle_names_the_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.json"):
        InterviewClassifier.load(tmp_path)


@pytest.mark.parametrize("pooling", ["gated_attention", "noisy_or", "mean", "max"])
def test_every_pooling_trains_deterministically(pooling):
    bags, y, groups, _ = planted_bags(40, seed=1)
    params = dict(FAST, max_epochs=8, pooling=pooling, seed=3)
    a = InterviewClassifier(**params).fit(bags, y, groups).predict_proba(bags)
    b = InterviewClassifier(**params).fit(bags, y, groups).predict_proba(bags)
    assert np.array_equal(a, b) and np.isfinite(a).all()


def test_nan_features_are_imputed_with_training_medians_and_flagged():
    bags, y, groups, _ = planted_bags(40, seed=2)
    bags = [b.copy() for b in bags]
    bags[0][0, 3] = np.nan
    bags[5][:, 3] = np.nan
    clf = InterviewClassifier(**dict(FAST, max_epochs=3)).fit(bags, y, groups)
    assert clf.scaler_.indicator_columns == [3]
    assert clf.model_config_.n_features == 7  # 6 features + one missingness indicator
    test = np.full((4, 6), np.nan)
    assert np.isfinite(clf.predict_proba([test])).all()


def test_unusable_features_raise_feature_errors():
    bags, y, groups, _ = planted_bags(20, seed=3)
    all_nan = [b.copy() for b in bags]
    for b in all_nan:
        b[:, 2] = np.nan
    with pytest.raises(FeatureError, match="entirely missing"):
        InterviewClassifier(**FAST).fit(all_nan, y, feature_names=[f"c{j}" for j in range(6)])
    ragged = list(bags)
    ragged[3] = ragged[3][:, :5]
    with pytest.raises(FeatureError, match="bag 3 has 5 features"):
        InterviewClassifier(**FAST).fit(ragged, y)
    clf = InterviewClassifier(**dict(FAST, max_epochs=2)).fit(bags, y)
    with pytest.raises(FeatureError, match="model expects 6"):
        clf.predict_proba([np.zeros((3, 4))])
    with pytest.raises(FeatureError, match="no instances"):
        clf.predict_proba([np.zeros((0, 6))])
    with pytest.raises(ConfigError, match="pooling"):
        InterviewClassifier(pooling="median").fit(bags, y)


def test_phq8_head_ranks_high_scores_above_low_ones():
    bags, y, groups, _ = planted_bags(80, seed=0, shift=5.0)
    rng = np.random.default_rng(0)
    phq = np.where(y == 1, 14.0, 4.0) + rng.uniform(-2, 2, size=len(y))  # planted bags score high
    known = phq.copy()
    known[::7] = np.nan  # unknown scores are skipped in training
    clf = InterviewClassifier(**dict(FAST, max_epochs=40)).fit(bags[:60], y[:60], groups[:60], phq=known[:60])
    est = clf.predict_phq8(bags[60:])  # held-out interviews
    assert roc_auc(phq[60:] > 9, est) > 0.9  # high-PHQ interviews get higher estimates
    assert spearmanr(est, phq[60:]).statistic > 0.5
    assert est[y[60:] == 1].mean() - est[y[60:] == 0].mean() > 4.0  # in PHQ-8 points
    with pytest.raises(ConfigError, match="no PHQ-8 head"):
        InterviewClassifier(**dict(FAST, max_epochs=2)).fit(bags[:20], y[:20]).predict_phq8(bags[:2])


def test_sensitivity_threshold_reaches_its_target_on_the_validation_bags():
    bags, y, groups, _ = planted_bags(60, seed=8, shift=2.0)  # a hard problem: the threshold matters
    params = dict(FAST, max_epochs=10, threshold="sensitivity", seed=1)
    thresholds = []
    for target in (0.5, 0.9, 1.0):
        clf = InterviewClassifier(**params, target_sensitivity=target).fit(bags, y, groups)
        _, val = group_train_val_split(y, groups, clf.val_fraction, clf.seed)  # the split fit() chose on
        pred = clf.predict([bags[i] for i in val])
        assert pred[y[val] == 1].mean() >= target  # sensitivity on the held-out validation bags
        thresholds.append(clf.threshold_)
    assert thresholds[0] >= thresholds[1] >= thresholds[2]  # a higher target never raises the threshold
    assert thresholds[0] > thresholds[2]


def test_interview_mean_baseline_fits_and_predicts():
    rng = np.random.default_rng(5)
    y = np.arange(40) % 2
    bags = [rng.normal(size=(8, 3)) + 1.5 * label for label in y]
    bags[0][0, 1] = np.nan
    base = interview_mean_baseline(bags[:30], y[:30])
    proba = base.predict_proba(bags[30:])
    assert proba.shape == (10, 2)
    assert roc_auc(y[30:], proba[:, 1]) == 1.0


def test_committee_of_models_round_trips_and_pools_validation(tmp_path):
    bags, y, groups, _ = planted_bags(40, seed=6)
    clf = InterviewClassifier(**dict(FAST, max_epochs=5), n_models=2).fit(bags, y, groups)
    assert len(clf.members_) == 2 and clf.validation_["n_bags"] == 2 * clf.n_val_bags_
    ex = clf.explain(bags[:2])
    assert np.isclose(ex[0].weights.sum(), 1.0)
    clf.save(tmp_path / "committee")
    loaded = InterviewClassifier.load(tmp_path / "committee")
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags))
