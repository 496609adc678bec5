"""abc-atlas-kg: Allen Brain Cell Atlas taxonomies as SHACL-validated linked data.

The pipeline, one module per stage: source → model → convert → validate → write.
"""

__version__ = "0.1.0"
