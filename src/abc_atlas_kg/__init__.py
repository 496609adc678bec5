"""abc-atlas-kg: Allen Brain Cell Atlas taxonomies as SHACL-validated linked data.

    import abc_atlas_kg as kg
    built = kg.build("WMB-taxonomy")     # a validated release in memory: .quads(), .terms, .query(...)

The public API (`__all__`) lives in `api.py` and `errors.py`, and is imported on first use, so that `import
abc_atlas_kg` (and `abc-kg --help`) stays cheap. The pipeline's stages are the package's folders (docs/architecture.md).
"""

from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"

# The public names, all defined or re-exported by `api` (which imports the stages it needs).
_PUBLIC = (
    "BuildOptions",
    "Built",
    "build",
    "export",
    "export_many",
    "load",
    "load_many",
    "validate",
    "taxonomies",
    "FetchSettings",
    "IntegrationSettings",
    "AbcKgError",
    "ExportFailures",
    "FetchError",
    "InputError",
    "NotConformingError",
    "OutputError",
    "Problem",
    "StoreError",
    "UsageError",
)
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """The public names, imported when first asked for (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import api

    value = getattr(api, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


class _Package(types.ModuleType):
    """`build` and `validate` are API functions and also stages (`build.py`, `validate/`).

    Importing a submodule sets it as an attribute of its package, which would replace the function by the module;
    this keeps the functions. The stages stay importable as themselves (`from abc_atlas_kg.build import ...`,
    `from .validate.run import ...`); `from abc_atlas_kg import build` gives the API function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
