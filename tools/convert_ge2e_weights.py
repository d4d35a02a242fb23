"""Write ``interview_mil/segmentation/weights/ge2e_voice_encoder.safetensors`` from the Resemblyzer wheel.

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/r && unzip -o /tmp/r/*.whl -d /tmp/r
    python tools/convert_ge2e_weights.py /tmp/r/resemblyzer/pretrained.pt

The weights are the GE2E speaker encoder of Resemblyzer 0.1.4 (Apache-2.0, resemble-ai; see
``weights/NOTICE``): a 3-layer LSTM (40 mel bands → 256) and a 256 → 256 projection. Only those tensors are
kept (no optimiser state), float32, so the package loads them without pickle. Run once; the output is
committed. The checkpoint is read with ``weights_only=True`` (tensors and plain containers only).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

WEIGHTS = Path(__file__).resolve().parents[1] / "interview_mil" / "segmentation" / "weights"
OUT = WEIGHTS / "ge2e_voice_encoder.safetensors"


def main(source: str) -> None:
    state = torch.load(source, map_location="cpu", weights_only=True)["model_state"]
    keep = {k: v.contiguous().float() for k, v in state.items() if k.startswith(("lstm.", "linear."))}
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    save_file(keep, str(OUT), metadata={"source": "resemblyzer 0.1.4 pretrained.pt", "source_sha256": digest})
    print(f"{OUT}: {len(keep)} tensors from {source} (sha256 {digest})")


if __name__ == "__main__":
    main(sys.argv[1])
