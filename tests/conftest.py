from pathlib import Path

import pytest

from radcoder.corpus import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()

needs_shared_data = pytest.mark.skipif(SHARED is None, reason="../shared/data is absent")


@pytest.fixture(scope="session")
def blank_nlp():
    from radcoder.components.tokenizer import blank
    return blank()


@pytest.fixture(scope="session")
def rules_nlp():
    """The full pipeline without a trained NER (rules only), built from the packaged data."""
    from radcoder.pipeline import build_pipeline
    return build_pipeline()


@pytest.fixture(scope="session")
def shipped_nlp():
    import radcoder
    from radcoder.pipeline import default_model_path
    if not (default_model_path() / "config.cfg").exists():
        pytest.skip("shipped model not built")
    return radcoder.load()


@pytest.fixture(scope="session")
def rules_model_dir(tmp_path_factory, rules_nlp):
    """The rules-only pipeline saved to disk (a model folder for CLI and batch tests)."""
    p = tmp_path_factory.mktemp("model") / "radcoder_rules"
    rules_nlp.to_disk(p)
    return p
