"""Explain stage: a trained model's interview probability and the weight, score and leave-one-out
contribution of every turn, as ``ExplainedInterview`` records → tables (CSV + Parquet) and an HTML report.

``explain_bag`` (one ``Bag``), ``explain_bags`` (many), ``write_tables``; the row and turn-table columns
are documented in ``records`` and ``tables``.
"""

from .export import explain_bags, precision_at_k, precision_ceiling, write_tables
from .records import INTERVIEW_COLUMNS, ExplainedInterview, InterviewRow, interview_frame
from .report import render_report, write_report
from .tables import READABLE_PROSODY, TURN_COLUMNS, explain_bag, faithfulness

__all__ = [
    "explain_bags",
    "precision_at_k",
    "precision_ceiling",
    "write_tables",
    "INTERVIEW_COLUMNS",
    "ExplainedInterview",
    "InterviewRow",
    "interview_frame",
    "render_report",
    "write_report",
    "READABLE_PROSODY",
    "TURN_COLUMNS",
    "explain_bag",
    "faithfulness",
]
