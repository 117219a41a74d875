"""radcoder: radiology report coding as a spaCy pipeline."""

from .about import __version__
from .extensions import register_extensions

register_extensions()

__all__ = ["__version__"]
