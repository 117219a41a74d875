"""spaCy components of radcoder; radcoder.registry imports each module to register its factory."""
