"""Committee members trained together (mil.batched) are the members trained one by one."""

import dataclasses

import numpy as np
import pytest

from interview_mil.mil import InterviewClassifier
from interview_mil.mil.bags import BagDataset
from interview_mil.mil.batched import train_members
from interview_mil.mil.committee import BATCHED_POOLINGS, bag_probabilities, can_batch
from interview_mil.mil.model import MILModel, ModelConfig
from interview_mil.mil.training import TrainConfig, class_balance_weights, seeded, train_mil


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    bags = [rng.normal(size=(int(rng.integers(2, 12)), 5)) for _ in range(n)]
    y = np.arange(n) % 2
    for b, label in zip(bags, y):
        b[0, 0] += 2.0 * label
    phq = np.where(rng.random(n) < 0.6, rng.integers(0, 25, n), np.nan)  # some PHQ-8 unknown
    return BagDataset(bags, y, phq, class_balance_weights(y))


@pytest.mark.parametrize("pooling", sorted(BATCHED_POOLINGS))
def test_batched_members_equal_members_trained_one_by_one_without_dropout(pooling):
    data = _data()
    config = ModelConfig(5, pooling, (8,), 0.0, 0.0, True, 8, phq_head=True, n_heads=2)
    train = TrainConfig(max_epochs=3, batch_size=5, lr=1e-2)  # 5 batches of 5, the last one short
    seeds = [3, 4, 5]
    alone = []
    for s in seeds:
        with seeded(s):
            model = MILModel(config)
            train_mil(model, data, None, dataclasses.replace(train, seed=s))
        alone.append(model)
    together, results = train_members(config, data, train, seeds)
    for a, b in zip(alone, together):
        assert np.allclose(bag_probabilities(a, data.bags), bag_probabilities(b, data.bags), atol=1e-5)
    assert [len(r.history) for r in results] == [3, 3, 3]


def test_batched_members_clip_their_own_gradients():
    data = _data()
    config = ModelConfig(5, "attention", (8,), 0.0, 0.0, True, 8)
    train = TrainConfig(max_epochs=2, batch_size=6, lr=5e-2, grad_clip=0.05)  # clipping on every step
    with seeded(7):
        alone = MILModel(config)
        train_mil(alone, data, None, dataclasses.replace(train, seed=7))
    together, _ = train_members(config, data, train, [1, 7])
    assert np.allclose(bag_probabilities(alone, data.bags), bag_probabilities(together[1], data.bags), atol=1e-5)


def test_members_with_dropout_differ_from_each_other_and_learn():
    data = _data(40)
    config = ModelConfig(5, "attention", (16,), 0.25, 0.1, True, 8)
    members, results = train_members(config, data, TrainConfig(max_epochs=30, batch_size=8, lr=1e-2), [0, 1])
    p0, p1 = (bag_probabilities(m, data.bags) for m in members)
    assert not np.allclose(p0, p1)
    assert results[0].history[-1]["train_loss"] < results[0].history[0]["train_loss"]
    y = data.y.numpy()
    assert p0[y == 1].mean() > p0[y == 0].mean() + 0.2


def test_the_classifier_trains_its_committee_batched_only_without_a_validation_split(monkeypatch):
    calls = []
    import interview_mil.mil.committee as committee

    real = committee.train_members
    monkeypatch.setattr(committee, "train_members", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = _data(30)
    bags, y = data.bags, data.y.numpy().astype(int)
    params = dict(hidden=(8,), max_epochs=3, n_models=3, seed=0)
    InterviewClassifier(**params, val_fraction=0.0).fit([b.numpy() for b in bags], y)
    assert calls == [1]
    InterviewClassifier(**params, val_fraction=0.3).fit([b.numpy() for b in bags], y)
    assert calls == [1]  # early stopping on a split: members one by one
    assert not can_batch(ModelConfig(5, "autopool"), 3, 0.0) and not can_batch(ModelConfig(5), 1, 0.0)
