"""Train the members of a committee together, as one batched network.

On bags of a few dozen turns a training step is a few microseconds of arithmetic and milliseconds of
Python: with ``n_models`` members trained one after the other, the overhead is paid ``n_models`` times.
Where every member trains on all bags (no validation split, so no early stopping), ``train_members`` stacks
the members' parameters (``torch.func.stack_module_state``) and runs one ``vmap``-ed forward and backward
and one Adam step for all of them per batch. Each member keeps what makes it a member: its own seeded
initialisation (as when trained alone), its own seeded order of bags, its own dropout draws
(``randomness="different"``) and its own gradient-norm clipping. Adam and weight decay act elementwise, so
one optimiser over the stacked tensors is the members' optimisers side by side. The per-instance networks
run densely inside ``vmap`` (``pooling.base.dense_instances``): the same outputs on real instances.
With dropout off, members come out as they would from ``training.train_mil`` (tests check it).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch.func import functional_call, stack_module_state, vmap

from .bags import BagDataset, pad_bags
from .model import PHQ8_MAX, MILModel, ModelConfig
from .pooling.base import dense_instances
from .training import TrainConfig, TrainResult, seeded


def _member_loss(base: MILModel, balance: str, phq_weight: float):
    """The loss of one member on its batch, written without data-dependent control flow (for vmap)."""

    def loss(params, buffers, X, mask, y, weight, phq):
        out = functional_call(base, (params, buffers), (X, mask))
        bce = torch.nn.functional.binary_cross_entropy_with_logits(out.bag_logit, y, reduction="none")  # (B,)
        if balance == "weight":
            bce = bce * weight / weight.mean()
        total = bce.mean()
        if out.phq is not None:
            known = torch.isfinite(phq)  # (B,)
            err = torch.where(known, (out.phq - torch.nan_to_num(phq)) / PHQ8_MAX, torch.zeros_like(out.phq))
            total = total + phq_weight * (err**2).sum() / known.sum().clamp_min(1)  # 0 when none is known
        return total

    return loss


def train_members(
    config: ModelConfig, data: BagDataset, train: TrainConfig, seeds: Sequence[int]
) -> tuple[list[MILModel], list[TrainResult]]:
    """Train one :class:`MILModel` per seed on all of ``data`` for ``train.max_epochs`` epochs, batched;
    returns the members (eval mode) and their training records (no validation: ``best_epoch`` = last)."""
    members = []
    for s in seeds:
        with seeded(s):
            members.append(MILModel(config))
    params, buffers = stack_module_state(members)  # name -> (M, ...) tensors; params are leaves
    base = copy.deepcopy(members[0]).to("meta").train()
    X_all, mask_all = pad_bags(data.bags)  # (n, N, F), (n, N)
    n, M = len(data), len(members)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]  # each member's order, as train_mil's
    optimiser = torch.optim.Adam(params.values(), lr=train.lr, weight_decay=train.weight_decay, foreach=True)
    step = vmap(_member_loss(base, train.balance, train.phq_weight), randomness="different")
    histories: list[list[dict]] = [[] for _ in members]
    with seeded(int(seeds[0])), dense_instances():
        for epoch in range(1, train.max_epochs + 1):
            if train.balance == "sampler":
                orders = [torch.multinomial(data.weight, n, replacement=True, generator=g) for g in gens]
            else:
                orders = [torch.randperm(n, generator=g) for g in gens]
            running = torch.zeros(M)
            for start in range(0, n, train.batch_size):
                idx = torch.stack([o[start : start + train.batch_size] for o in orders])  # (M, B)
                mask = mask_all[idx]  # (M, B, N)
                width = int(mask.sum(-1).max())  # trim padding no bag of this step needs
                losses = step(
                    params,
                    buffers,
                    X_all[idx][:, :, :width],
                    mask[:, :, :width],
                    data.y[idx],
                    data.weight[idx],
                    data.phq[idx],
                )  # (M,)
                optimiser.zero_grad(set_to_none=True)
                losses.sum().backward()
                if train.grad_clip > 0:
                    _clip_per_member(list(params.values()), train.grad_clip)
                optimiser.step()
                running += losses.detach() * idx.shape[1]
            for m in range(M):
                histories[m].append({"epoch": epoch, "train_loss": float(running[m]) / n})
    for m, member in enumerate(members):
        member.load_state_dict({k: v[m].detach().clone() for k, v in {**params, **buffers}.items()})
        member.eval()
    results = [TrainResult(train.max_epochs, float("nan"), train.max_epochs, h) for h in histories]
    return members, results


def _clip_per_member(params: list[torch.Tensor], max_norm: float) -> None:
    """``clip_grad_norm_`` of each member separately: stacked grads (M, ...) scaled by member."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norms = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt()  # (M,)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)  # (M,)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
