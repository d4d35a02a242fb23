"""Pooling operators: shapes, masking (a padded instance never changes an output), noisy-or stability."""

from __future__ import annotations

import math

import pytest
import torch

from interview_mil.errors import ConfigError
from interview_mil.mil.model import MILModel, ModelConfig
from interview_mil.mil.pooling import POOLINGS, build_pooling
from interview_mil.mil.pooling.noisy_or import NoisyOrPooling

ALL = ["attention", "gated_attention", "noisy_or", "mean", "max"]


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


@pytest.mark.parametrize("name", ["attention", "gated_attention", "mean"])
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
