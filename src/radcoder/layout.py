"""Report layout helpers shared by the frames, CPT and ICD code: where the exam title ends.

One pattern, ``INLINE_LABEL_RE``, finds the start of the next section label on a line ("... 3 VIEWS.
INDICATION: ...", "EXAM: XR ELBOW  HISTORY: ...", "RIGHT SHOULDER ARTHROGRAM INDICATION: ..."), so a report
written on one line is cut after its exam statement the same way everywhere.
"""

from __future__ import annotations

import re

_LABELS = r"(?:clinical |brief )?(?:history|indications?|reason(?: for exam)?|technique|comparison|findings|impression|" \
          r"procedure|hx|tech)"
INLINE_LABEL_RE = re.compile(
    # after a sentence end or two spaces, any label with a colon
    rf"(?:(?<=[.;])\s+|[ \t]{{2,}})(?={_LABELS}\s*:)"
    # after one space, an upper-case label ('RIGHT SHOULDER ARTHROGRAM INDICATION:'), not inside 'CLINICAL HISTORY:'
    r"|(?<!CLINICAL)(?<!BRIEF)\s+(?=(?-i:(?:CLINICAL |BRIEF )?(?:HISTORY|INDICATIONS?|REASON FOR EXAM|TECHNIQUE|COMPARISON|FINDINGS|"
    r"IMPRESSION)\s*:))", re.IGNORECASE)


def cut_at_label(line: str) -> str:
    """``line`` up to the next inline section label."""
    return INLINE_LABEL_RE.split(line, 1)[0]


def exam_title(text: str, labels: tuple[str, ...] = ("exam",)) -> str:
    """The statement naming the performed exam: the report's first non-empty line and every line that starts
    with one of ``labels`` followed by a colon (``EXAM:``, and for the ICD rules also ``PROCEDURE:`` /
    ``STUDY:``), each cut at the next inline label."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        return ""
    out = [cut_at_label(lines[0].strip())]
    pat = re.compile(rf"^\s*(?:{'|'.join(labels)})(?:ination)?\s*:(.*)$", re.IGNORECASE)
    for ln in lines[1:]:
        m = pat.match(ln)
        if m:
            out.append(cut_at_label(m.group(1)).strip())
    return " ".join(out)
