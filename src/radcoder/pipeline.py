"""Assemble, load and save radcoder pipelines."""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

from .errors import Errors, RadcoderError
from .lexicons import entity_patterns

DEFAULT_MODEL_NAME = "radcoder_default"
COMPONENT_MODULES = ("sentences", "sectionizer", "spanfix", "assertion", "normalizer", "frames", "coder",
                     "tokenizer")


def register_components() -> None:
    """Import every component module so its factory is registered (entry points do this after install)."""
    import importlib
    for m in COMPONENT_MODULES:
        importlib.import_module(f"radcoder.components.{m}")


def default_model_path() -> Path:
    """The shipped default model: ``models/radcoder_default`` in a source checkout."""
    here = Path(__file__).resolve()
    for root in (here.parents[2], Path.cwd()):
        p = root / "models" / DEFAULT_MODEL_NAME
        if (p / "config.cfg").exists():
            return p
    return here.parents[2] / "models" / DEFAULT_MODEL_NAME


def build_pipeline(ner_source: Language | None = None, *, ruler: bool = True, ruler_first: bool = False,
                   name: str = DEFAULT_MODEL_NAME) -> Language:
    """A radcoder pipeline: tokenizer, sentences, sections, [trained ner], entity ruler (lexicons),
    span fixes, normalizer, assertion, frames, coder. ``ner_source`` is a pipeline with a trained ``ner`` to copy in."""
    register_components()
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "radcoder.tokenizer.v1"}}})
    nlp.meta["name"] = name
    from .about import __version__
    nlp.meta["version"] = __version__
    nlp.add_pipe("radcoder_sentences")
    nlp.add_pipe("radcoder_sectionizer").initialize()
    if ruler and ruler_first:
        r = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": False})
        r.add_patterns(entity_patterns())
    if ner_source is not None:
        if "tok2vec" in ner_source.pipe_names:
            # make the NER standalone: copy the shared tok2vec into its own model
            ner_source.replace_listeners("tok2vec", "ner", ["model.tok2vec"])
        nlp.add_pipe("ner", source=ner_source)
    if ruler and not ruler_first:
        r = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": False})
        r.add_patterns(entity_patterns())
    # span boundaries and context of ruler spans (guideline §2.1, §7.6) before normalization
    nlp.add_pipe("radcoder_spanfix")
    nlp.add_pipe("radcoder_normalizer")
    nlp.add_pipe("radcoder_assertion")
    nlp.add_pipe("radcoder_frames")
    nlp.add_pipe("radcoder_coder")
    nlp.get_pipe("radcoder_assertion").initialize()
    return nlp


def load(path: str | Path | None = None) -> Language:
    register_components()
    p = Path(path) if path is not None else default_model_path()
    if not (p / "config.cfg").exists():
        raise RadcoderError(Errors.E002.format(path=p))
    return spacy.load(p)


WARM_UP_TEXT = ("CT CHEST WITHOUT CONTRAST\nINDICATION: Cough.\nFINDINGS: No pleural effusion. 4 mm nodule in the right "
                "upper lobe.\nIMPRESSION: Right upper lobe pulmonary nodule.")


def warm_up(nlp: Language) -> None:
    """Build what the components load lazily on first use (the ICD-10-CM table and its search index, the CPT,
    HCPCS and NCCI tables) by coding one built-in report, so that the first real report is not slower than
    the rest. Batch workers call it after loading; benchmarks time it apart from throughput."""
    from .codesets.icd10cm import load_icd10cm
    load_icd10cm().search("warm up", limit=1)
    nlp(WARM_UP_TEXT)

