"""Pooling operators: shapes, masking (a padded instance never changes an output), noisy-or stability,
additive MIL's exact contributions, auto-pool between mean and max, multi-head spread, learning through
``InterviewClassifier`` and bundle round trips for the newer poolings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interview_mil.errors import ConfigError
from interview_mil.mil import InterviewClassifier, roc_auc
from interview_mil.mil.committee import forward_batches
from interview_mil.mil.model import MILModel, ModelConfig
from interview_mil.mil.pooling import POOLINGS, AdditivePooling, AutoPooling, build_pooling
from interview_mil.mil.pooling.noisy_or import NoisyOrPooling

NEW = ["additive", "autopool", "linear_softmax", "multihead_attention", "local_global"]
ALL = ["attention", "gated_attention", "noisy_or", "mean", "max"] + NEW


def test_registry_lists_every_pooling_and_rejects_unknown_names():
    assert POOLINGS.names() == sorted(ALL)
    with pytest.raises(ConfigError, match="attention"):
        build_pooling("median", 4)


@pytest.mark.parametrize("name", ALL + ["noisy_or+learned", "noisy_or+bag"])
def test_shapes_and_padding_never_changes_any_output(name):
    name, _, leak = name.partition("+")
    torch.manual_seed(0)
    pool = build_pooling(name, dim=6, attention_dim=5, leak=leak or "none").eval()
    lengths = [3, 7, 1]
    h_real = [torch.randn(n, 6) for n in lengths]
    alone = [pool(h[None], torch.ones(1, len(h), dtype=torch.bool)) for h in h_real]
    # pad to 10 with garbage (huge values and NaN) that must not leak into anything
    H = torch.full((3, 10, 6), float("nan"))
    H[:, :, :3] = 1e6
    mask = torch.zeros(3, 10, dtype=torch.bool)
    for i, h in enumerate(h_real):
        H[i, : len(h)] = h
        mask[i, : len(h)] = True
    out = pool(H, mask)
    assert out.bag_logit.shape == (3,)  # (B,)
    assert out.instance_scores.shape == (3, 10) and out.weights.shape == (3, 10)  # (B, N)
    assert out.embedding.shape == (3, 6)  # (B, D)
    for i, n in enumerate(lengths):
        a = alone[i]
        torch.testing.assert_close(out.bag_logit[i], a.bag_logit[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out.weights[i, :n], a.weights[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out.instance_scores[i, :n], a.instance_scores[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out.embedding[i], a.embedding[0], rtol=1e-5, atol=1e-6)
        assert torch.all(out.weights[i, n:] == 0) and torch.all(out.instance_scores[i, n:] == 0)
        assert math.isclose(float(out.weights[i].detach().sum()), 1.0, rel_tol=1e-5)
    assert torch.isfinite(out.bag_logit).all()


@pytest.mark.parametrize("name", ["attention", "gated_attention", "mean", "multihead_attention"])
def test_bag_logit_is_the_weighted_mean_of_instance_scores(name):
    torch.manual_seed(1)
    pool = build_pooling(name, dim=4)
    h, mask = torch.randn(2, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = pool(h, mask)
    torch.testing.assert_close(out.bag_logit, (out.weights * out.instance_scores).sum(1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_model_padding_never_changes_outputs_or_gradients_of_real_instances(name):
    torch.manual_seed(2)
    model = MILModel(ModelConfig(n_features=5, pooling=name, hidden=(8,), dropout=0.0, phq_head=True)).eval()
    bag = torch.randn(4, 5)
    X = torch.full((2, 9, 5), float("nan"))
    X[0, :4] = bag
    X[1, :9] = torch.randn(9, 5)
    mask = torch.zeros(2, 9, dtype=torch.bool)
    mask[0, :4] = True
    mask[1] = True
    out = model(X, mask)
    single = model(bag[None], torch.ones(1, 4, dtype=torch.bool))
    torch.testing.assert_close(out.bag_logit[0], single.bag_logit[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out.phq[0], single.phq[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.weights[0, :4], single.weights[0], rtol=1e-5, atol=1e-6)
    _, losses = model.compute_loss(torch.tensor([1.0, 0.0]), X, mask, torch.tensor([10.0, float("nan")]))
    losses["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def _direct_noisy_or(scores: torch.Tensor, leak: float = 0.0) -> torch.Tensor:
    p = torch.sigmoid(scores.double())
    return 1 - (1 - leak) * torch.prod(1 - p, dim=-1)


def test_noisy_or_matches_the_direct_formula_on_short_bags():
    torch.manual_seed(3)
    pool = NoisyOrPooling(dim=3).double()
    h = torch.randn(4, 6, 3, dtype=torch.float64) * 2
    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[1, 3:] = False
    out = pool(h, mask)
    for i in range(4):
        n = int(mask[i].sum())
        expected = _direct_noisy_or(out.instance_scores[i, :n])
        torch.testing.assert_close(torch.sigmoid(out.bag_logit[i]), expected, rtol=1e-9, atol=1e-12)
        p = torch.sigmoid(out.instance_scores[i, :n])
        torch.testing.assert_close(out.weights[i, :n], p / p.sum(), rtol=1e-9, atol=1e-12)


def test_noisy_or_learned_leak_matches_the_direct_formula():
    pool = NoisyOrPooling(dim=2, leak="learned").double()
    with torch.no_grad():
        pool.leak_logit.fill_(-2.0)
    h = torch.randn(1, 4, 2, dtype=torch.float64)
    out = pool(h, torch.ones(1, 4, dtype=torch.bool))
    leak = float(torch.sigmoid(torch.tensor(-2.0, dtype=torch.float64)))
    expected = _direct_noisy_or(out.instance_scores[0], leak)
    torch.testing.assert_close(torch.sigmoid(out.bag_logit[0]), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("level", [-120.0, -30.0, -5.0, 0.0, 8.0, 60.0])
def test_noisy_or_is_stable_on_1000_instance_bags(level):
    """No NaN/inf and finite gradients for 1,000 instances, from p ~ 1e-52 to p ~ 1."""
    pool = NoisyOrPooling(dim=1)
    with torch.no_grad():
        pool.classifier.weight.fill_(1.0)
        pool.classifier.bias.fill_(0.0)
    h = (level + torch.randn(2, 1000, 1)).requires_grad_(True)
    mask = torch.ones(2, 1000, dtype=torch.bool)
    mask[1, 700:] = False
    out = pool(h, mask)
    assert torch.isfinite(out.bag_logit).all() and torch.isfinite(out.weights).all()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out.bag_logit, torch.tensor([1.0, 0.0]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(h.grad).all()
    assert torch.isfinite(pool.classifier.weight.grad).all()
    # bag log-odds against the float64 direct value where it is representable
    s = out.instance_scores[0].detach().double()
    if level <= -30:  # P = 1 - prod(1 - p) ~ sum p: log-odds ~ logsumexp(s)
        assert math.isclose(float(out.bag_logit[0].detach()), float(torch.logsumexp(s, 0)), rel_tol=0, abs_tol=1e-3)
    elif level <= 0:
        direct = _direct_noisy_or(s)
        assert math.isclose(float(torch.sigmoid(out.bag_logit[0].detach().double())), float(direct), rel_tol=1e-4)
    else:
        assert out.bag_logit[0] > 30  # P is 1 to float precision: large positive log-odds, not inf


# ----------------------------------------------------------------- additive MIL: exact contributions
def test_additive_contributions_sum_exactly_to_the_bag_logit_minus_its_bias():
    torch.manual_seed(4)
    pool = AdditivePooling(dim=5, attention_dim=4).double()
    with torch.no_grad():
        pool.classifier.bias.fill_(0.7)  # a non-zero bias, which no instance owns
    h = torch.randn(4, 9, 5, dtype=torch.float64) * 3
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[0, 2:] = False
    mask[2, 6:] = False
    out = pool(h, mask)
    assert pool.exact_contributions and float(pool.bag_bias.detach()) == 0.7
    torch.testing.assert_close(out.bag_logit - 0.7, out.instance_scores.sum(1), rtol=0, atol=1e-12)
    assert (out.instance_scores > 0).any() and (out.instance_scores < 0).any()  # signed contributions
    zero = pool.contribution(torch.zeros(3, 5, dtype=torch.float64))  # a_k = 0, so a_k h_k = 0
    assert torch.all(zero == 0)  # an instance without attention contributes nothing
    assert not any(POOLINGS.get(n).exact_contributions for n in ALL if n != "additive")


def planted_bags(n_bags=80, seed=0, shift=4.0, n_planted=(1, 1), signal="local"):
    """Positive bags hold ``n_planted`` (inclusive range) instances with feature 0 shifted by ``shift``;
    ``signal="global"`` shifts every instance of a positive bag instead. Returns (bags, y, groups, planted)."""
    rng = np.random.default_rng(seed)
    bags, y, planted = [], [], []
    for i in range(n_bags):
        n = int(rng.integers(6, 15))
        bag, label, ks = rng.normal(size=(n, 6)), i % 2, []
        if label and signal == "global":
            bag[:, 0] += shift
        elif label:
            ks = list(rng.choice(n, size=int(rng.integers(n_planted[0], n_planted[1] + 1)), replace=False))
            bag[ks, 0] += shift
        bags.append(bag)
        y.append(label)
        planted.append(ks)
    return bags, np.array(y), np.arange(n_bags) // 2, planted


FAST = dict(hidden=(16,), layer_norm=False, attention_dim=8, dropout=0.0, input_dropout=0.0, max_epochs=40)
FAST.update(patience=15, batch_size=16, lr=5e-3, weight_decay=1e-4)


def test_additive_contributions_stay_exact_in_a_trained_model():
    bags, y, groups, _ = planted_bags(40, seed=5)
    clf = InterviewClassifier(pooling="additive", seed=0, **dict(FAST, max_epochs=15)).fit(bags, y, groups)
    bias = clf.model_.pool.bag_bias
    for out, mask in forward_batches(clf.model_, clf.scaler_.transform(bags)):
        contributions = out.instance_scores.masked_fill(~mask, 0.0).sum(1)  # (B,)
        torch.testing.assert_close(out.bag_logit - bias, contributions, rtol=0, atol=1e-5)


# ------------------------------------------------------------- auto-pool and linear-softmax formulas
def _probability_pool(pool, logits):
    """Pool fixed instance logits (B, N): a 1-wide embedding read by a unit classifier."""
    with torch.no_grad():
        pool.classifier.weight.fill_(1.0)
        pool.classifier.bias.fill_(0.0)
    mask = torch.ones(logits.shape, dtype=torch.bool)
    mask[1, 3:] = False
    out = pool(logits.unsqueeze(-1), mask)
    p = torch.sigmoid(logits)
    return torch.sigmoid(out.bag_logit), p, mask, out


def test_autopool_moves_from_the_mean_at_alpha_0_to_the_max_at_large_alpha():
    logits = torch.tensor([[-2.0, 0.5, 1.5, -1.0, 3.0], [0.0, -3.0, 2.0, 9.0, 9.0]], dtype=torch.float64)
    pool = AutoPooling(dim=1).double()
    assert math.isclose(float(pool.alpha.detach()), 1.0, rel_tol=1e-6)  # starts at 1
    pool.set_alpha(0.0)
    bag_p, p, mask, out = _probability_pool(pool, logits)
    mean = torch.stack([p[0].mean(), p[1, :3].mean()])
    torch.testing.assert_close(bag_p, mean, rtol=1e-9, atol=1e-12)
    pool.set_alpha(1e4)
    bag_p, p, mask, out = _probability_pool(pool, logits)
    torch.testing.assert_close(bag_p, torch.stack([p[0].max(), p[1, :3].max()]), rtol=1e-9, atol=1e-9)
    assert out.weights[0].argmax() == 4 and out.weights[1].argmax() == 2  # the padded 9s never count
    pool.set_alpha(2.0)
    _, p, _, out = _probability_pool(pool, logits)
    expected = torch.softmax(2.0 * p[0], 0)
    torch.testing.assert_close(out.weights[0], expected, rtol=1e-9, atol=1e-12)
    out.bag_logit.sum().backward()
    assert pool.alpha_raw.grad is not None and pool.alpha_raw.grad != 0  # alpha is learned


def test_linear_softmax_weights_each_instance_by_its_probability():
    logits = torch.tensor([[-2.0, 0.5, 1.5, -1.0, 3.0], [0.0, -3.0, 2.0, 9.0, 9.0]], dtype=torch.float64)
    bag_p, p, mask, out = _probability_pool(build_pooling("linear_softmax", 1).double(), logits)
    for i, n in enumerate([5, 3]):
        torch.testing.assert_close(out.weights[i, :n], p[i, :n] / p[i, :n].sum(), rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(bag_p[i], (p[i, :n] ** 2).sum() / p[i, :n].sum(), rtol=1e-9, atol=1e-12)


def test_probability_poolings_clip_the_bag_probability_to_finite_logits():
    logits = torch.tensor([[80.0, 90.0], [-90.0, -80.0]])
    for name in ("autopool", "linear_softmax"):
        out = build_pooling(name, 1)(logits.unsqueeze(-1), torch.ones(2, 2, dtype=torch.bool))
        assert torch.isfinite(out.bag_logit).all() and out.bag_logit[0] > 10 and out.bag_logit[1] < -10


# ------------------------------------------------------------------------------ multi-head attention
def test_one_head_is_attention_pooling_and_bad_head_counts_are_config_errors():
    torch.manual_seed(6)
    single, attention = build_pooling("multihead_attention", 4, 3, n_heads=1), build_pooling("attention", 4, 3)
    with torch.no_grad():
        single.V.load_state_dict(attention.V.state_dict())
        single.w.copy_(attention.w.weight)
        single.classifier.load_state_dict(attention.classifier.state_dict())
    h, mask = torch.randn(2, 6, 4), torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6], dtype=torch.bool)
    for a, b in zip(single(h, mask), attention(h, mask)):
        torch.testing.assert_close(a, b)
    with pytest.raises(ConfigError, match="n_heads"):
        build_pooling("multihead_attention", 4, n_heads=0)
    assert ModelConfig.from_dict({"n_features": 3}).n_heads == 4  # bundles written before n_heads load


def test_four_heads_spread_the_weight_over_several_evidence_instances():
    """Positive bags hold 2-3 planted instances: one head piles its weight on one of them, four share it."""
    bags, y, groups, planted = planted_bags(seed=0, n_planted=(2, 3))
    test = [i for i in range(60, 80) if y[i] == 1]
    spread = {}
    for pooling in ("attention", "multihead_attention"):
        clf = InterviewClassifier(pooling=pooling, seed=0, **FAST).fit(bags[:60], y[:60], groups[:60])
        explained = clf.explain([bags[i] for i in test])
        spread[pooling] = np.mean([e.weights.max() for e in explained])
        assert np.mean([e.weights[planted[i]].sum() for e, i in zip(explained, test)]) > 0.8  # still on evidence
    assert spread["multihead_attention"] < spread["attention"] - 0.05


# ------------------------------------------------------------------ learning and bundles, end to end
@pytest.mark.parametrize("pooling", NEW)
def test_every_new_pooling_learns_a_planted_signal_and_points_at_it(pooling):
    bags, y, groups, planted = planted_bags(seed=1)
    clf = InterviewClassifier(pooling=pooling, seed=0, **FAST).fit(bags[:60], y[:60], groups[:60])
    assert roc_auc(y[60:], clf.predict_proba(bags[60:])[:, 1]) > 0.9
    test = [i for i in range(60, 80) if y[i] == 1]
    top = [int(np.argmax(e.weights)) for e in clf.explain([bags[i] for i in test])]
    assert np.mean([t in planted[i] for t, i in zip(top, test)]) >= 0.8


def test_local_global_learns_a_signal_spread_over_the_whole_interview():
    bags, y, groups, _ = planted_bags(seed=0, shift=1.0, signal="global")
    clf = InterviewClassifier(pooling="local_global", seed=0, **FAST).fit(bags[:60], y[:60], groups[:60])
    assert roc_auc(y[60:], clf.predict_proba(bags[60:])[:, 1]) > 0.9


@pytest.mark.parametrize("pooling", NEW)
def test_bundle_round_trip_gives_identical_predictions(pooling, tmp_path):
    bags, y, groups, _ = planted_bags(30, seed=3)
    clf = InterviewClassifier(pooling=pooling, seed=0, **dict(FAST, max_epochs=5)).fit(bags, y, groups)
    loaded = InterviewClassifier.load(clf.save(tmp_path / pooling))
    assert np.array_equal(loaded.predict_proba(bags), clf.predict_proba(bags))
    for a, b in zip(loaded.explain(bags[:4]), clf.explain(bags[:4])):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.instance_scores, b.instance_scores)
