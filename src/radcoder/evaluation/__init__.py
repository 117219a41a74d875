"""Evaluation for radcoder: pure metrics (:mod:`.metrics`), span matching (:mod:`.matching`) and
report writers / offline HTML rendering (:mod:`.report`; plotting needs the ``eval`` extra)."""

from .matching import match_exact, match_overlap
from .metrics import (
    Counts,
    assertion_scores,
    auto_code_curve,
    bootstrap_ci,
    code_scores,
    count_sets,
    cpt_line_scores,
    expected_calibration_error,
    first_listed_accuracy,
    micro_macro,
    mrr,
    paired_bootstrap,
    per_label_counts,
    precision_at_k,
    prf,
    recall_at_k,
    reliability_curve,
    span_prf,
)
from .report import (
    plot_auto_code,
    plot_confusion,
    plot_pr_curve,
    plot_reliability,
    render_html,
    write_errors_jsonl,
    write_metrics,
    write_table_csv,
)

__all__ = [
    "Counts", "assertion_scores", "auto_code_curve", "bootstrap_ci", "code_scores", "count_sets",
    "cpt_line_scores", "expected_calibration_error", "first_listed_accuracy", "match_exact",
    "match_overlap", "micro_macro", "mrr", "paired_bootstrap", "per_label_counts", "plot_auto_code",
    "plot_confusion", "plot_pr_curve", "plot_reliability", "precision_at_k", "prf", "recall_at_k",
    "reliability_curve", "render_html", "span_prf", "write_errors_jsonl", "write_metrics",
    "write_table_csv",
]
