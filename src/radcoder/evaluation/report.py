"""Writers and renderers for evaluation results: JSON, CSV, JSONL, PNG plots and one offline HTML page.

Nothing here computes a metric: every function formats numbers it is given (see
:mod:`radcoder.evaluation.metrics`). The HTML report is a single self-contained file — CSS is
inline, plots are base64 ``data:`` URIs, error examples are rendered with displaCy — and a
Content-Security-Policy forbids loading anything from the network. Matplotlib is imported lazily
(it is an optional ``eval`` dependency) and used through its object-oriented Agg canvas, so no
global backend or pyplot state is touched.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "flatten_metrics",
    "plot_auto_code",
    "plot_confusion",
    "plot_pr_curve",
    "plot_reliability",
    "render_html",
    "write_errors_jsonl",
    "write_metrics",
    "write_table_csv",
]

_ERROR_KINDS = ("span_fp", "span_fn", "assertion", "code_fp", "code_fn")
_ERROR_COLOURS = {"SPAN_FP": "#f4a6a6", "SPAN_FN": "#f7d38b", "ASSERTION": "#b9a6f4",
                  "CODE_FP": "#f4a6a6", "CODE_FN": "#f7d38b"}
_LABEL_COLOURS = {
    "MODALITY": "#7aecec", "ANATOMY": "#bfeeb7", "LATERALITY": "#feca74", "CONTRAST": "#ff9561",
    "VIEWS": "#aa9cfc", "GUIDANCE": "#c887fb", "PROCEDURE": "#9cc9cc", "FINDING": "#ffeb80",
}


# ------------------------------------------------------------------------------- files
def _json_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, Path):
        return str(obj)
    try:  # NumPy scalars and arrays without importing NumPy here
        return obj.tolist()
    except AttributeError:
        pass
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


def write_metrics(metrics: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write a metrics dict to ``out_dir/metrics.json`` with sorted keys and two-space indentation.

    Parameters
    ----------
    metrics : mapping
        Nested metrics (NumPy scalars/arrays, sets and dataclasses are converted to JSON types).
    out_dir : str or Path
        Output folder, created if needed.

    Returns
    -------
    Path
        The path of the written file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(metrics, sort_keys=True, indent=2, default=_json_default) + "\n",
                    encoding="utf-8")
    return path


def write_table_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write a list of flat dicts as a CSV table, columns in order of first appearance.

    Parameters
    ----------
    rows : sequence of mapping
        One dict per row; missing keys become empty cells. An empty list writes an empty file.
    path : str or Path
        Destination file; parent folders are created.

    Returns
    -------
    Path
        The path of the written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as fh:
        if fields:
            writer = csv.DictWriter(fh, fieldnames=fields, restval="")
            writer.writeheader()
            writer.writerows(rows)
    return path


def write_errors_jsonl(errors: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write error records one JSON object per line (UTF-8, keys sorted).

    Parameters
    ----------
    errors : iterable of mapping
        Error records (see :func:`render_html` for the expected shape).
    path : str or Path
        Destination file; parent folders are created.

    Returns
    -------
    Path
        The path of the written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for err in errors:
            fh.write(json.dumps(err, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n")
    return path


# ------------------------------------------------------------------------- flattening
def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool)) or hasattr(v, "item") and not hasattr(v, "__len__")


def _is_record_table(v: Any) -> bool:
    """A dict of dicts of scalars (e.g. per_label) or a list of dicts of scalars (e.g. a curve)."""
    rows = list(v.values()) if isinstance(v, Mapping) else v if isinstance(v, list) else None
    return bool(rows) and all(isinstance(r, Mapping) and r and all(_is_scalar(x) for x in r.values())
                              for r in rows)


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> tuple[list[tuple[str, Any]],
                                                                          list[tuple[str, Any]]]:
    """Split nested metrics into dotted scalar rows and record tables, for display.

    Parameters
    ----------
    metrics : mapping
        Nested metrics dict.
    prefix : str
        Dotted path of ``metrics`` itself (used in recursion).

    Returns
    -------
    tuple of list
        ``(scalars, tables)``: ``scalars`` are ``(dotted_key, value)`` pairs (lists of scalars are
        kept as values); ``tables`` are ``(dotted_key, dict_of_dicts_or_list_of_dicts)`` pairs for
        sub-structures that read best as a grid (per-label scores, confusion matrices, curves).
    """
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if _is_record_table(value):
            tables.append((path, value))
        elif isinstance(value, Mapping):
            s, t = flatten_metrics(value, path)
            scalars.extend(s)
            tables.extend(t)
        elif isinstance(value, list) and value and all(isinstance(x, Mapping) for x in value):
            for i, item in enumerate(value):
                s, t = flatten_metrics(item, f"{path}[{i}]")
                scalars.extend(s)
                tables.extend(t)
        else:
            scalars.append((path, value))
    return scalars, tables


# ------------------------------------------------------------------------------- HTML
def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if hasattr(v, "item") and not hasattr(v, "__len__"):
        v = v.item()
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4f}"
    if isinstance(v, (list, tuple)):
        text = ", ".join(_fmt(x) for x in v[:50])
        return text + (f", … ({len(v)} items)" if len(v) > 50 else "")
    return str(v)


def _esc(v: Any) -> str:
    return html.escape(_fmt(v) if not isinstance(v, str) else v, quote=True)


def _scalar_table(rows: list[tuple[str, Any]], header: tuple[str, str] = ("Metric", "Value")) -> str:
    body = "".join(f"<tr><td>{_esc(k)}</td><td class='num'>{_esc(_fmt(v))}</td></tr>" for k, v in rows)
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _record_table(name: str, data: Any) -> str:
    if isinstance(data, Mapping):
        row_keys = [str(k) for k in data]
        records = list(data.values())
        first = "gold \\ pred" if name.endswith("confusion") else "label"
    else:
        row_keys = [str(i) for i in range(len(data))]
        records = list(data)
        first = "#"
    cols = list(dict.fromkeys(c for r in records for c in r))
    head = "".join(f"<th>{_esc(str(c))}</th>" for c in [first, *cols])
    body = "".join(
        "<tr><td>" + _esc(rk) + "</td>"
        + "".join(f"<td class='num'>{_esc(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
        for rk, r in zip(row_keys, records)
    )
    return (f"<h3>{_esc(name)}</h3><div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _plot_img(name: str, path: str | Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f"<figure><img alt='{_esc(name)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_esc(name)}</figcaption></figure>")


def _clean_ents(sentence: str, spans: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Clip, sort and de-overlap spans (displaCy's ent style cannot draw overlapping marks)."""
    ents = []
    for s in spans or ():
        try:
            start, end = int(s["start"]), int(s["end"])
        except (KeyError, TypeError, ValueError):
            continue
        start, end = max(0, start), min(len(sentence), end)
        if start < end:
            ents.append({"start": start, "end": end, "label": html.escape(str(s.get("label", "")))})
    ents.sort(key=lambda e: (e["start"], -e["end"]))
    out: list[dict[str, Any]] = []
    for e in ents:
        if not out or e["start"] >= out[-1]["end"]:
            out.append(e)
    return out


def _render_error(err: Mapping[str, Any]) -> str:
    from spacy import displacy

    sentence = str(err.get("sentence", ""))
    kind = str(err.get("kind", ""))
    title = f"{err.get('id', '')} · {kind} · offset {err.get('sentence_start', '')}"
    colours = dict(_LABEL_COLOURS)
    colours.update(_ERROR_COLOURS)
    markup = displacy.render(
        {"text": sentence, "ents": _clean_ents(sentence, err.get("spans", [])), "title": html.escape(title)},
        style="ent", manual=True, page=False, jupyter=False, options={"colors": colours},
    )
    gold = json.dumps(err.get("gold", {}), sort_keys=True, ensure_ascii=False, default=_json_default)
    pred = json.dumps(err.get("pred", {}), sort_keys=True, ensure_ascii=False, default=_json_default)
    return (f"<div class='error kind-{_esc(kind)}'>{markup}"
            f"<dl><dt>gold</dt><dd><code>{_esc(gold)}</code></dd>"
            f"<dt>pred</dt><dd><code>{_esc(pred)}</code></dd></dl></div>")


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5rem auto;max-width:1150px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}.plots{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;border:1px solid #ddd;padding:.5rem}figure img{max-width:540px;display:block}
figcaption{font-size:.8rem;color:#555;text-align:center}
.error{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;margin:.6rem 0}
.error h2{font-size:.9rem;border:none;color:#555}dl{font-size:.8rem;margin:.3rem 0}
dt{font-weight:bold;float:left;width:3rem}dd{margin-left:3.2rem}code{word-break:break-all}
nav a{margin-right:1rem}
"""


def render_html(
    metrics: Mapping[str, Any],
    errors: Sequence[Mapping[str, Any]],
    plots: Mapping[str, str | Path],
    out_path: str | Path,
    title: str = "radcoder evaluation report",
    max_errors: int | None = 300,
) -> Path:
    """Render metrics, plots and error examples into one self-contained, offline HTML file.

    Parameters
    ----------
    metrics : mapping
        Nested metrics; scalars are flattened to a ``Metric | Value`` table per top-level key,
        dicts of dicts / lists of dicts (per-label scores, confusion, curves) become grid tables.
    errors : sequence of mapping
        Error records ``{"id", "kind" ("span_fp"|"span_fn"|"assertion"|"code_fp"|"code_fn"),
        "sentence", "sentence_start", "gold", "pred", "spans": [{"start", "end", "label"}]}`` with
        span offsets relative to the sentence; each is drawn with displaCy (overlapping spans are
        dropped, out-of-range ones clipped).
    plots : mapping of str to path
        Caption -> PNG file, embedded as base64 data URIs.
    out_path : str or Path
        Destination ``.html`` file; parent folders are created.
    title : str
        Page title and heading.
    max_errors : int or None, default 300
        Render at most this many error examples (``None`` for all); the total is still reported.

    Returns
    -------
    Path
        The path of the written file.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        ("<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
         "style-src 'unsafe-inline'\">"),
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        "<nav><a href='#summary'>Summary</a><a href='#plots'>Plots</a><a href='#errors'>Errors</a></nav>",
        "<h2 id='summary'>Summary</h2>",
    ]
    for section, value in metrics.items():
        parts.append("<section>")
        if _is_record_table(value):  # the grid carries its own heading
            scalars, tables = [], [(str(section), value)]
        elif isinstance(value, Mapping):
            scalars, tables = flatten_metrics(value, str(section))
        else:
            scalars, tables = [(str(section), value)], []
        if scalars:
            parts.append(f"<h3>{_esc(str(section))}</h3>{_scalar_table(scalars)}")
        parts.extend(_record_table(name, data) for name, data in tables)
        parts.append("</section>")
    parts.append("<h2 id='plots'>Plots</h2><div class='plots'>")
    parts.extend(_plot_img(name, path) for name, path in plots.items())
    parts.append("</div>")
    counts = {k: 0 for k in _ERROR_KINDS}
    for err in errors:
        counts[str(err.get("kind", ""))] = counts.get(str(err.get("kind", "")), 0) + 1
    parts.append(f"<h2 id='errors'>Errors</h2>{_scalar_table(sorted(counts.items()), ('Kind', 'Count'))}")
    shown = errors if max_errors is None else errors[:max_errors]
    if len(shown) < len(errors):
        parts.append(f"<p>Showing {len(shown)} of {len(errors)} errors.</p>")
    parts.extend(_render_error(err) for err in shown)
    parts.append("</body></html>")
    out_path.write_text("\n".join(parts), encoding="utf-8")
    return out_path


# ------------------------------------------------------------------------------ plots
def _figure(figsize=(5.5, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_pr_curve(points: Sequence[Mapping[str, float] | Sequence[float]], path: str | Path) -> Path:
    """Plot a precision-recall curve to a PNG file.

    Parameters
    ----------
    points : sequence
        Operating points, each a mapping with ``recall`` and ``precision`` (and optionally
        ``threshold``) or a ``(recall, precision)`` pair; drawn in order of increasing recall.
    path : str or Path
        Destination PNG.

    Returns
    -------
    Path
        ``path``.
    """
    pts = [(float(p["recall"]), float(p["precision"])) if isinstance(p, Mapping) else (float(p[0]), float(p[1]))
           for p in points]
    pts.sort()
    fig = _figure()
    ax = fig.add_subplot()
    if pts:
        ax.plot([r for r, _ in pts], [p for _, p in pts], marker="o", ms=3)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title="Precision-recall")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_reliability(curve: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Plot a reliability diagram (output of ``reliability_curve``) with a count histogram below.

    Parameters
    ----------
    curve : mapping
        Lists ``mean_pred``, ``frac_pos``, ``count`` and optionally ``bin_lower``/``bin_upper``.
    path : str or Path
        Destination PNG.

    Returns
    -------
    Path
        ``path``.
    """
    fig = _figure((5.5, 5.5))
    ax, hx = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect")
    ax.plot(curve.get("mean_pred", []), curve.get("frac_pos", []), marker="s", label="model")
    ax.set(ylabel="fraction correct", ylim=(0, 1.02), title="Reliability")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    lowers, uppers = curve.get("bin_lower"), curve.get("bin_upper")
    counts = curve.get("count", [])
    if lowers and uppers:
        hx.bar(lowers, counts, width=[u - lo for lo, u in zip(lowers, uppers)], align="edge", edgecolor="k")
    else:
        hx.bar(curve.get("mean_pred", []), counts, width=0.05)
    hx.set(xlabel="mean predicted confidence", ylabel="count", xlim=(0, 1))
    return _save(fig, path)


def plot_confusion(confusion: Mapping[str, Mapping[str, int]], path: str | Path) -> Path:
    """Plot a confusion matrix (gold rows, predicted columns) as an annotated heat map.

    Parameters
    ----------
    confusion : mapping
        Nested ``gold -> pred -> count`` (as in ``assertion_scores(...)["confusion"]``).
    path : str or Path
        Destination PNG.

    Returns
    -------
    Path
        ``path``.
    """
    classes = list(dict.fromkeys([*confusion, *(p for row in confusion.values() for p in row)]))
    grid = [[int(confusion.get(g, {}).get(p, 0)) for p in classes] for g in classes]
    fig = _figure((1.2 + 0.8 * max(len(classes), 3), 1.0 + 0.7 * max(len(classes), 3)))
    ax = fig.add_subplot()
    im = ax.imshow(grid if classes else [[0]], cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="gold", title="Confusion")
    top = max((v for row in grid for v in row), default=0)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if top and v > top / 2 else "black")
    return _save(fig, path)


def plot_auto_code(curve: Sequence[Mapping[str, float]], path: str | Path) -> Path:
    """Plot the auto-coding curve: share auto-coded and their precision against the threshold.

    Parameters
    ----------
    curve : sequence of mapping
        Output of ``auto_code_curve``: dicts with ``threshold``, ``share``, ``precision``, ``n``;
        points with ``n == 0`` are left out of the precision line (it is undefined there).
    path : str or Path
        Destination PNG.

    Returns
    -------
    Path
        ``path``.
    """
    pts = sorted(curve, key=lambda d: d["threshold"])
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot([d["threshold"] for d in pts], [d["share"] for d in pts], marker="o", ms=3, label="share auto-coded")
    prec = [d for d in pts if d.get("n", 1) > 0]
    ax.plot([d["threshold"] for d in prec], [d["precision"] for d in prec], marker="s", ms=3,
            label="precision of auto-coded")
    ax.set(xlabel="confidence threshold", ylim=(0, 1.02), title="Auto-coding trade-off")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    return _save(fig, path)
