"""Griffe extension: reStructuredText literal-block markers (``text::``) read as Markdown.

The docstrings introduce formulas and examples the reStructuredText way, with a line ending in
``::`` before an indented block. In Markdown the indented block is already code, so the marker
becomes a plain colon; ``Example::`` becomes the Google-style ``Example:`` section.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

LITERAL_BLOCK_MARKER = re.compile(r"(?<=\S)::$", flags=re.MULTILINE)


class LiteralBlocks(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = LITERAL_BLOCK_MARKER.sub(":", obj.docstring.value)
