"""PCA of embedding columns: prosody columns kept, components from training turns only, JSON round trip."""

from __future__ import annotations

import numpy as np

from interview_mil.experiment.projection import EmbeddingProjection, fit_projection, project


def test_projection_keeps_prosody_and_reduces_embeddings():
    rng = np.random.default_rng(0)
    names = ["f0_range_st", "pause_ratio"] + [f"emb_{j:04d}" for j in range(20)]
    direction = rng.normal(size=20)
    bags = []
    for _ in range(6):
        b = rng.normal(size=(5, 22)).astype(np.float32) * 0.01
        b[:, 2:] += np.outer(rng.normal(size=5), direction).astype(np.float32)  # one dominant direction
        bags.append(b)
    proj = fit_projection(bags, names, 3)
    assert proj.output_names == ["f0_range_st", "pause_ratio", "emb_pc01", "emb_pc02", "emb_pc03"]
    out = project(bags, proj)
    assert out[0].shape == (5, 5) and np.array_equal(out[0][:, :2], bags[0][:, :2])
    cos = abs(proj.components[0] @ direction) / np.linalg.norm(direction)
    assert cos > 0.99  # the first component finds the planted direction
    again = EmbeddingProjection.from_dict(__import__("json").loads(__import__("json").dumps(proj.to_dict())))
    assert np.allclose(again.apply(bags[1]), proj.apply(bags[1]))
    assert fit_projection(bags, names, None) is None
    assert fit_projection([b[:, :2] for b in bags], names[:2], 3) is None  # no embedding columns
