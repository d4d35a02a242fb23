"""Bags as data: input checks, a torch Dataset, and the padding + mask collate.

A bag is a float array of shape (n_instances, n_features); a batch pads bags to the longest one and
carries a bool mask (B, N) that is True on real instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..errors import FeatureError


def check_bags(bags: Sequence, n_features: int | None = None, source: str | None = None) -> list[np.ndarray]:
    """Return the bags as float64 arrays (n_i, F); raise :class:`FeatureError` on empty or ragged input.

    ``n_features``: the width every bag must have (the width the model was trained with), or None to
    take it from the first bag. ``source`` names where the bags came from, for the error message.
    """
    if isinstance(bags, np.ndarray) and bags.ndim == 3:
        bags = list(bags)
    if len(bags) == 0:
        raise FeatureError(
            "no bags given", path=source, fix="pass a non-empty list of (n_instances, n_features) arrays"
        )
    out = []
    for i, bag in enumerate(bags):
        try:
            arr = np.asarray(bag, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise FeatureError(
                f"bag {i} is not numeric ({exc})",
                path=source,
                fix="give each bag as a float array (n_instances, n_features)",
            ) from None
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise FeatureError(
                f"bag {i} has shape {arr.shape}; expected (n_instances, n_features)",
                path=source,
                fix="give each bag as a 2-D array, one row per instance",
            )
        if arr.shape[0] == 0:
            raise FeatureError(
                f"bag {i} has no instances",
                path=source,
                fix="drop empty bags (an interview with no participant turns) before training or scoring",
            )
        width = n_features if n_features is not None else (out[0].shape[1] if out else arr.shape[1])
        if arr.shape[1] != width:
            raise FeatureError(
                f"bag {i} has {arr.shape[1]} features but "
                f"{'the model expects' if n_features is not None else 'bag 0 has'} {width}",
                path=source,
                fix="use the same feature set (same extractor and columns) for every bag and for training and scoring",
            )
        out.append(arr)
    return out


def check_labels(y: Sequence, n_bags: int, source: str | None = None) -> np.ndarray:
    """Return bag labels as an int array of 0/1; accept bools, 0/1 and -1/+1."""
    arr = np.asarray(y)
    if arr.shape != (n_bags,):
        raise FeatureError(
            f"{arr.shape[0] if arr.ndim else 0} labels for {n_bags} bags", path=source, fix="give one label per bag"
        )
    try:
        values = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise FeatureError(
            f"labels must be 0/1, got {sorted(set(arr.tolist()))[:5]}",
            path=source,
            fix="encode the positive (e.g. depressed) class as 1 and the other as 0",
        ) from None
    uniq = set(np.unique(values).tolist())
    if uniq <= {0.0, 1.0}:
        return values.astype(np.int64)
    if uniq <= {-1.0, 1.0}:
        return (values > 0).astype(np.int64)
    raise FeatureError(
        f"labels must be 0/1, got values {sorted(uniq)[:5]}",
        path=source,
        fix="encode the positive (e.g. depressed) class as 1 and the other as 0",
    )


class BagBatch(NamedTuple):
    """A padded batch: ``X`` (B, N, F) float32, ``mask`` (B, N) bool, ``y`` (B,) float32,
    ``phq`` (B,) float32 (NaN = unknown), ``weight`` (B,) float32 per-bag loss weight."""

    X: torch.Tensor
    mask: torch.Tensor
    y: torch.Tensor
    phq: torch.Tensor
    weight: torch.Tensor


def pad_bags(bags: Sequence[torch.Tensor | np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack bags (n_i, F) into ``X`` (B, max n_i, F) with zeros on padding and ``mask`` (B, max n_i)."""
    tensors = [torch.as_tensor(b, dtype=torch.float32) for b in bags]
    n_max = max(t.shape[0] for t in tensors)
    X = tensors[0].new_zeros(len(tensors), n_max, tensors[0].shape[1])  # (B, N, F)
    mask = torch.zeros(len(tensors), n_max, dtype=torch.bool)  # (B, N)
    for i, t in enumerate(tensors):
        X[i, : t.shape[0]] = t
        mask[i, : t.shape[0]] = True
    return X, mask


class BagDataset(torch.utils.data.Dataset):
    """Bags (already imputed and standardised) with labels, optional PHQ-8 totals and loss weights."""

    def __init__(
        self,
        bags: Sequence[np.ndarray],
        y: Sequence[float] | None = None,
        phq: Sequence[float] | None = None,
        weight: Sequence[float] | None = None,
    ):
        self.bags = [torch.as_tensor(np.asarray(b), dtype=torch.float32) for b in bags]
        n = len(self.bags)
        self.y = torch.as_tensor(np.zeros(n) if y is None else np.asarray(y), dtype=torch.float32)
        self.phq = torch.as_tensor(
            np.full(n, np.nan) if phq is None else np.asarray(phq, dtype=float), dtype=torch.float32
        )
        self.weight = torch.as_tensor(np.ones(n) if weight is None else np.asarray(weight), dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.bags)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.bags[i], self.y[i], self.phq[i], self.weight[i]

    def subset(self, indices: Sequence[int]) -> BagDataset:
        """The bags at ``indices`` (tensors shared, not copied)."""
        out = BagDataset.__new__(BagDataset)
        idx = [int(i) for i in indices]
        out.bags = [self.bags[i] for i in idx]
        out.y, out.phq, out.weight = self.y[idx], self.phq[idx], self.weight[idx]
        return out

    def batch(self, indices: Sequence[int]) -> BagBatch:
        """The padded batch of the bags at ``indices``."""
        return collate_bags([self[int(i)] for i in indices])


def collate_bags(items: Sequence[tuple]) -> BagBatch:
    """Collate ``(bag, y, phq, weight)`` items into a padded :class:`BagBatch` (DataLoader ``collate_fn``)."""
    X, mask = pad_bags([it[0] for it in items])
    y = torch.stack([torch.as_tensor(it[1], dtype=torch.float32) for it in items])  # (B,)
    phq = torch.stack([torch.as_tensor(it[2], dtype=torch.float32) for it in items])  # (B,)
    weight = torch.stack([torch.as_tensor(it[3], dtype=torch.float32) for it in items])  # (B,)
    return BagBatch(X, mask, y, phq, weight)


def check_fit_inputs(
    bags: Sequence[np.ndarray], y: Sequence[int], phq: Sequence[float] | None, feature_names: Sequence[str] | None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, list[str] | None]:
    """Checked training inputs: bags, 0/1 labels of both classes, PHQ-8 totals (one per bag, NaN = unknown)
    and feature names (one per column); ``FeatureError`` saying what to fix."""
    bags = check_bags(bags)
    y = check_labels(y, len(bags))
    if len(np.unique(y)) < 2:
        raise FeatureError("training bags hold only one class", fix="train with both positive and negative bags")
    phq_arr = None if phq is None else np.asarray(phq, dtype=float)
    if phq_arr is not None and phq_arr.shape != (len(bags),):
        raise FeatureError(f"{phq_arr.size} PHQ-8 values for {len(bags)} bags", fix="give one PHQ-8 total per bag")
    names = None if feature_names is None else [str(n) for n in feature_names]
    if names is not None and len(names) != bags[0].shape[1]:
        raise FeatureError(
            f"{len(names)} feature names for {bags[0].shape[1]} feature columns", fix="give one name per feature column"
        )
    return bags, y, phq_arr, names
