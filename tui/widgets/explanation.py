"""The explanation panel: plain words about the live numbers (see ``tui.explain``).

The panel's height is set by the app from the window's; the sentences that fit it whole, most
important first, are shown, and a sentence that would not fit whole is left out with all after it.
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from ..explain import sentences
from . import glyphs
from .diff_view import DiffView

SHORT_BELOW = 110  # narrower panels get the short sentences


class Explanation(DiffView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._height = 0

    def set_snapshot(self, snapshot: dict, activation: str) -> None:
        self.show_for_width(lambda width: self._text_for(snapshot, activation, max(20, width)))

    def on_resize(self) -> None:
        # DiffView's handler rebuilds on a new width; a new height changes how many sentences fit.
        if self.size.height != self._height:
            self._height = self.size.height
            self.rebuild()

    def _lines(self) -> int:
        return max(1, self.size.height or 3)  # the content's rows (the top border is not in size)

    def _text_for(self, snapshot: dict, activation: str, width: int) -> Text:
        roles = self.roles
        styles = {"why": "", "harm": "", "fix": roles.fix.replace("bold", "").strip(), "note": roles.muted,
                  "warn": roles.bad}
        max_lines = self._lines()
        text = Text()
        # Sentences come most important first; stop at the first that would not fit whole, so a
        # later one never stands in for a more important one that was left out.
        for tag, sentence in sentences(snapshot, activation, short=width < SHORT_BELOW):
            if self.ascii_only:
                sentence = glyphs.prose(sentence)
            candidate = text.copy()
            if candidate:
                candidate.append(" ")
            candidate.append(sentence, styles[tag])
            if len(textwrap.wrap(candidate.plain, width)) > max_lines:
                if not text:
                    # Even the most important sentence is too long: show what fits, whole words.
                    lines = textwrap.wrap(sentence, width)[:max_lines]
                    return Text("\n".join(lines), styles[tag])
                break
            text = candidate
        return text
