"""interview_mil: multiple-instance learning over the response turns of recorded clinical interviews.

A research screening aid for depression from the voice, not a diagnostic device.
The stages, in the order data flows through them: ``corpora`` → ``data`` → ``segmentation`` →
``features`` → ``mil`` → ``explain``; ``pipeline`` and ``cli`` sit on top.
"""

__version__ = "0.1.0"

SCREENING_DISCLAIMER = (
    "Research screening aid only: interview_mil is not a diagnostic device. Its outputs are "
    "model estimates from speech and must not be used to diagnose, treat or triage anyone. "
    "A qualified clinician must interpret any result."
)

__all__ = ["__version__", "SCREENING_DISCLAIMER"]
