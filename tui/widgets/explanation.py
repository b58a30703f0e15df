"""The explanation panel: plain words about the live numbers (see ``tui.explain``)."""

from __future__ import annotations

import textwrap

from rich.text import Text

from ..explain import sentences
from .diff_view import DiffView

STYLES = {"why": "", "harm": "", "fix": "orchid1", "note": "grey70", "warn": "bold red"}
SHORT_BELOW = 110  # narrower panels get the short sentences


class Explanation(DiffView):
    def set_snapshot(self, snapshot: dict, activation: str) -> None:
        self.show_for_width(lambda width: self._text_for(snapshot, activation, max(20, width)))

    def _text_for(self, snapshot: dict, activation: str, width: int) -> Text:
        # max-height counts the top border line too.
        max_lines = int(self.styles.max_height.value) - 1 if self.styles.max_height else 4
        text = Text()
        # Sentences come most important first; stop at the first that would not fit whole, so a
        # later one never stands in for a more important one that was left out.
        for tag, sentence in sentences(snapshot, activation, short=width < SHORT_BELOW):
            candidate = text.copy()
            if candidate:
                candidate.append(" ")
            candidate.append(sentence, STYLES[tag])
            if text and len(textwrap.wrap(candidate.plain, width)) > max_lines:
                break
            text = candidate
        return text
