"""What a layer (cell types, anatomy, genes) is given to join curated public sources to one release's model.

A layer is two functions named in `registry/plugins.py` LAYERS: `model.NAME:link(context) -> records` and
`convert.NAME:convert(records, context, iris) -> LayerOutput`. The context hands it the release model, the located
source files that serve this taxonomy and layer, other taxonomies' models (for links derived through a shared
alias or a parent taxonomy) and one way to warn, so that no layer reaches into the build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..registry.sources import Source
from ..source.integration import LocatedSource
from .taxonomy import Taxonomy


@dataclass
class LayerContext:
    layer: str
    taxonomy: Taxonomy
    sources: dict[str, LocatedSource]  # by source id: every declared source for this taxonomy and layer
    linked: Callable[[str], Taxonomy]  # another taxonomy's model (read from the same place)
    layer_records: Callable[[str, str], Any]  # (taxonomy id, layer) → that taxonomy's records of the layer
    warnings: list[str] = field(default_factory=list)
    options: frozenset[str] = frozenset()  # layer options the user switched on (e.g. "owl-view", --owl-view)

    def warn(self, message: str) -> None:
        """One warning line for the user (shown once, on stderr, with the export's summary)."""
        self.warnings.append(message)

    def available(self) -> dict[str, LocatedSource]:
        """The located sources with a local file."""
        return {sid: found for sid, found in self.sources.items() if found.path is not None}

    def source(self, source_id: str) -> Source:
        return self.sources[source_id].source
