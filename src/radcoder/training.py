"""Training: corpus -> .spacy files -> trained NER -> the shipped pipeline (models/radcoder_default).

One command rebuilds the default model from ``corpus/``::

    radcoder train --out models/radcoder_default

Steps (each also a function): ``build_corpus`` (DocBin train/dev files from the corpus manifests),
``train_ner`` (spaCy ``ner`` with training/configs/ner.cfg), ``fit_ranker`` (the ICD-10-CM ranker on the
training split) and ``package`` (assemble the full pipeline and save it).

By default the shipped model is *refit*: once the settings are chosen with the dev split (``--no-refit``
trains on train and selects the NER checkpoint on dev), the final NER, the normalizer's memory and the
ranker learn from train + dev, and the NER runs a fixed ``REFIT_STEPS`` steps (its dev F1 is flat from
about step 1900 to 4000 in the train-only runs) and keeps its last checkpoint. The test split is never
used for training either way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .corpus import load_authored, load_standoff

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "training" / "configs" / "ner.cfg"
REFIT_STEPS = 3000


def _bucket(doc_id: str, salt: str = "radcoder-dev") -> float:
    return int(hashlib.sha256(f"{salt}:{doc_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def training_records(include_real: bool = True) -> dict[str, list[dict]]:
    """Records by role: ``train``, ``dev`` (model selection), ``test`` (never used for training).

    Authored reports follow their split manifests. Real-text annotations (CMC 2007, Open-i) keep their
    annotated test split; 15% of their train part (by a hash of the id) is used as dev."""
    out: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for r in load_authored():
        out[r["split"]].append(r)
    if include_real:
        for name in ("cmc2007", "openi"):
            for r in load_standoff(name):
                if r["split"] == "test":
                    out["test"].append(r)
                elif _bucket(r["id"]) < 0.15:
                    out["dev"].append(r)
                else:
                    out["train"].append(r)
    return out


def fit_records(recs: dict[str, list[dict]], refit: bool) -> list[dict]:
    """The records a final model learns from: train, plus dev when ``refit``."""
    return recs["train"] + (recs["dev"] if refit else [])


def build_corpus(out_dir: str | Path, include_real: bool = True, refit: bool = False) -> dict[str, Path]:
    """DocBin files per role. With ``refit`` the train file holds train + dev (dev.spacy stays dev, for
    monitoring only: its scores are then in-sample)."""
    from .components.tokenizer import blank
    from .corpus import to_docbin
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp = blank()
    recs = training_records(include_real)
    recs = {**recs, "train": fit_records(recs, refit)}
    paths = {}
    for split in ("train", "dev", "test"):
        p = out_dir / f"{split}.spacy"
        to_docbin(recs[split], nlp).to_disk(p)
        paths[split] = p
    (out_dir / "counts.json").write_text(json.dumps({k: len(v) for k, v in recs.items()}))
    return paths


def train_ner(corpus_dir: str | Path, out_dir: str | Path, config: str | Path = DEFAULT_CONFIG,
              overrides: dict | None = None) -> Path:
    """Train spaCy ``ner`` on ``corpus_dir``/train.spacy (dev.spacy for model selection)."""
    from spacy.cli.train import train as spacy_train

    from .pipeline import register_components
    register_components()
    corpus_dir, out_dir = Path(corpus_dir), Path(out_dir)
    ov = {"paths.train": str(corpus_dir / "train.spacy"), "paths.dev": str(corpus_dir / "dev.spacy")}
    ov.update(overrides or {})
    spacy_train(Path(config), out_dir, overrides=ov, use_gpu=-1)
    return out_dir / "model-best"


def normalization_pairs(refit: bool = False) -> list[tuple[str, str]]:
    """(span text, ICD-10-CM code) of every FINDING in the authored training split (and dev when
    ``refit``). Real-text corpora are left out on purpose: the memory is saved with the model, and their
    text must not be."""
    from .ranking.train import memory_pairs
    return memory_pairs(fit_records(training_records(include_real=False), refit))


RULER_MIN_PRECISION = 0.5
RULER_MIN_MATCHES = 2


def prune_ruler(nlp, records: list[dict], min_precision: float = RULER_MIN_PRECISION,
                min_matches: int = RULER_MIN_MATCHES) -> list[dict]:
    """Drop the entity-ruler phrase patterns that the annotated ``records`` contradict.

    Every phrase pattern is matched alone (the ruler over the tokenizer's output) on the records' texts; a
    match is right when the gold has a span with the same offsets and label. A pattern matched at least
    ``min_matches`` times and right less than ``min_precision`` of the time is removed: lexicon terms that the
    guideline does not annotate where they occur ('lungs' as ANATOMY outside an exam mention, 'left' outside
    a laterality of the exam). Returns the removed patterns as ``{"label", "pattern", "right", "wrong"}``.
    Token patterns are kept."""
    from collections import defaultdict
    ruler = nlp.get_pipe("entity_ruler")
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        if not r.get("text"):
            continue
        gold = {(s["start"], s["end"], s["label"]) for s in r.get("spans", [])}
        for e in ruler(nlp.make_doc(r["text"])).ents:
            stats[(e.label_, e.text.lower())][(e.start_char, e.end_char, e.label_) not in gold] += 1
    drop = {k for k, (ok, bad) in stats.items() if ok + bad >= min_matches and ok < min_precision * (ok + bad)}
    patterns = ruler.patterns
    keep = [p for p in patterns if not (isinstance(p["pattern"], str) and (p["label"], p["pattern"]) in drop)]
    removed = [{"label": lab, "pattern": pat, "right": stats[(lab, pat)][0], "wrong": stats[(lab, pat)][1]}
               for lab, pat in sorted({(p["label"], p["pattern"]) for p in patterns
                                       if isinstance(p["pattern"], str)} & drop)]
    ruler.clear()
    ruler.add_patterns(keep)
    return removed


def package(out: str | Path, ner_path: str | Path | None = None, *, ruler: bool = True,
            ranker_dir: str | Path | None = None, refit: bool = False, prune: bool = True) -> Path:
    """Assemble the full pipeline (optionally with a trained NER) and save it to ``out``. With ``prune``
    the entity-ruler patterns that the training records contradict are removed (``prune_ruler``); the
    removed patterns are listed in the model's meta (``radcoder.ruler_pruned``)."""
    import spacy

    from .pipeline import build_pipeline
    ner_source = spacy.load(ner_path) if ner_path else None
    nlp = build_pipeline(ner_source=ner_source, ruler=ruler)
    if ruler and prune:
        removed = prune_ruler(nlp, fit_records(training_records(), refit))
        nlp.meta.setdefault("radcoder", {})["ruler_pruned"] = {
            "min_precision": RULER_MIN_PRECISION, "min_matches": RULER_MIN_MATCHES, "patterns": removed}
    nlp.get_pipe("radcoder_normalizer").learn(normalization_pairs(refit))
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    nlp.to_disk(out)
    if ranker_dir is not None:
        shutil.copytree(ranker_dir, out / "radcoder_coder" / "ranker", dirs_exist_ok=True)
    return out


def train_all(out: str | Path, work_dir: str | Path = REPO / "training" / "output",
              config: str | Path = DEFAULT_CONFIG, overrides: dict | None = None, refit: bool = True) -> Path:
    """The one training command: corpus -> NER -> ranker -> packaged pipeline at ``out``. ``refit``
    (the default, how the shipped model is built) learns from train + dev with a fixed number of NER
    steps; ``refit=False`` learns from train and selects the NER checkpoint on dev."""
    work_dir = Path(work_dir)
    paths = build_corpus(work_dir / "corpus", refit=refit)
    ner = train_ner(work_dir / "corpus", work_dir / "ner", config,
                    {"training.max_steps": REFIT_STEPS, **(overrides or {})} if refit else overrides)
    if refit:
        ner = ner.parent / "model-last"
    tmp = package(work_dir / "pipeline_no_ranker", ner, refit=refit)
    ranker_dir = None
    from .ranking.train import fit_ranker
    authored = load_authored()
    records = fit_records({r: [x for x in authored if x["split"] == r] for r in ("train", "dev")}, refit)
    try:
        ranker_dir = fit_ranker(tmp, work_dir / "ranker", records=records)
    except ValueError as exc:  # too little training data for a ranker: ship the guideline rules alone
        import warnings
        warnings.warn(f"No ICD-10-CM ranker trained ({exc}); the pipeline uses the guideline rules alone.",
                      stacklevel=2)
    del paths
    return package(out, ner, ranker_dir=ranker_dir, refit=refit)
