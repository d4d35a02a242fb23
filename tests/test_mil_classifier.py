"""InterviewClassifier end to end on small generated bags: planted signal, bundle round trip, NaN handling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interview_mil import __version__
from interview_mil.errors import ConfigError, FeatureError, ModelNotFoundError
from interview_mil.mil import InterviewClassifier, interview_mean_baseline, roc_auc

FAST = dict(hidden=(16,), layer_norm=False, attention_dim=8, dropout=0.0, input_dropout=0.0, max_epochs=60, patience=15, batch_size=16, lr=5e-3,
            weight_decay=1e-4)


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


def test_fitted_attributes_and_sklearn_contract(planted_fit):
    clf, bags, y, _ = planted_fit
    assert clf.n_features_in_ == 6 and list(clf.classes_) == [0, 1]
    assert 0.0 <= clf.threshold_ <= 1.0 and clf.best_epoch_ >= 1
    proba = clf.predict_proba(bags[60:])
    assert proba.shape == (20, 2) and np.allclose(proba.sum(1), 1.0)
    assert np.array_equal(clf.predict(bags[60:]), (proba[:, 1] >= clf.threshold_).astype(int))
    params = clf.get_params()
    assert params["pooling"] == "attention" and params["hidden"] == (16,)
    assert not hasattr(InterviewClassifier(), "model_")  # __init__ learns nothing


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
    assert config["package_version"] == __version__ and config["threshold"] == clf.threshold_
    assert config["params"]["pooling"] == "attention" and config["metadata"] == {"features": "test"}
    assert len(config["scaler"]["mean"]) == 6
    loaded = InterviewClassifier.load(tmp_path / "model")
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags))
    assert np.array_equal(loaded.predict(bags), clf.predict(bags))
    assert loaded.threshold_ == clf.threshold_ and loaded.get_params() == clf.get_params()
    a, b = loaded.explain(bags[:3]), clf.explain(bags[:3])
    assert all(np.array_equal(x.weights, z.weights) for x, z in zip(a, b))


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


def test_phq8_head_and_sensitivity_threshold():
    bags, y, groups, _ = planted_bags(40, seed=4)
    phq = np.where(y == 1, 15.0, 3.0)
    phq[::7] = np.nan  # unknown scores are skipped
    clf = InterviewClassifier(**dict(FAST, max_epochs=20), threshold="sensitivity", target_sensitivity=1.0)
    clf.fit(bags, y, groups, phq=phq)
    est = clf.predict_phq8(bags)
    assert est.shape == (40,) and np.all((est >= 0) & (est <= 24))
    val = clf.n_val_bags_
    assert val > 0 and clf.validation_["n_bags"] == val


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
