"""The explanation panel: plain words about the live numbers (see ``tui.explain``)."""

from __future__ import annotations

import textwrap

from dropout_tui.core.snapshot import Snapshot
from rich.text import Text

from ..explain import Context, sentences
from .diff_view import DiffView

STYLES = {"why": "", "harm": "", "fix": "orchid1", "note": "grey70", "warn": "bold red"}
SHORT_BELOW = 110  # narrower panels get the short sentences


class Explanation(DiffView):
    def set_snapshot(self, snapshot: Snapshot, context: Context) -> None:
        """Explain ``snapshot``; ``context`` carries the settings and any keep_prob still pending."""
        self.show_for_width(lambda width: self._text_for(snapshot, context, max(20, width)))

    def _text_for(self, snapshot: Snapshot, context: Context, width: int) -> Text:
        # max-height counts the top border line too.
        max_lines = int(self.styles.max_height.value) - 1 if self.styles.max_height else 4
        return fit(sentences(snapshot, context, short=width < SHORT_BELOW), width, max_lines)


def fit(tagged: list[tuple[str, str]], width: int, max_lines: int) -> Text:
    """The sentences, most important first, that fit in ``max_lines`` lines of ``width``. Stops at the
    first that would not fit whole, so a later one never stands in for a more important one left out;
    the first is always shown (cut by the panel if it must be)."""
    text = Text()
    for tag, sentence in tagged:
        candidate = text.copy()
        if candidate:
            candidate.append(" ")
        candidate.append(sentence, STYLES[tag])
        if text and len(textwrap.wrap(candidate.plain, width)) > max_lines:
            break
        text = candidate
    return text
