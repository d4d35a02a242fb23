"""Instance encoder: a small MLP over each instance (turn) vector, with layer norm and dropout."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class InstanceEncoder(nn.Module):
    """``Linear → LayerNorm → ReLU → Dropout`` per hidden width; (..., F) → (..., hidden[-1]).

    With ``hidden=()`` the encoder is the identity (pooling straight on the standardised features).
    Each instance is encoded on its own, so padding cannot influence real instances.
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (256, 128, 64),
        dropout: float = 0.25,
        layer_norm: bool = True,
        input_dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        if input_dropout > 0:
            layers.append(nn.Dropout(input_dropout))
        width = n_features
        for out in hidden:
            layers.append(nn.Linear(width, out))
            if layer_norm:
                layers.append(nn.LayerNorm(out))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = out
        self.net = nn.Sequential(*layers)
        self.out_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (..., F) → (..., out_dim)
