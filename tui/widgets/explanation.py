"""The explanation panel: plain words about the live numbers (see ``tui.explain``).

The panel's height is set by the app from the window's; the sentences that fit it whole, most
important first, are shown, and a sentence that would not fit whole is left out with all after it.
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from dropout_tui.core.snapshot import Snapshot

from ..explain import Context, sentences
from . import glyphs
from .diff_view import DiffView

SHORT_BELOW = 110  # narrower panels get the short sentences


def fit(tagged: list[tuple[str, str]], width: int, max_lines: int, styles: dict[str, str] | None = None) -> Text:
    """The sentences, most important first, that fit in ``max_lines`` lines of ``width``. Stops at the
    first that would not fit whole, so a later one never stands in for a more important one left out;
    when even the first is too long, as many of its whole words as fit, then "…" (ASCII "...") to
    say that it goes on: a sentence cut at "so it misjudges their true size:" must not read as whole."""
    styles = styles or {}
    text = Text()
    for tag, sentence in tagged:
        candidate = text.copy()
        if candidate:
            candidate.append(" ")
        candidate.append(sentence, styles.get(tag, ""))
        if len(textwrap.wrap(candidate.plain, width)) > max_lines:
            if not text:
                more = "..." if sentence.isascii() else "…"
                # Room for the mark on the last line: wrapped one mark's width narrower there.
                words = textwrap.wrap(sentence, width)[:max_lines]
                last = textwrap.wrap(" ".join(words[-1:]), width - len(more) - 1)[:1]
                lines = words[:-1] + [(last[0] if last else "") + " " + more]
                return Text("\n".join(lines), styles.get(tag, ""))
            break
        text = candidate
    return text


class Explanation(DiffView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._height = 0

    def set_snapshot(self, snapshot: Snapshot, context: Context) -> None:
        """Explain ``snapshot``; ``context`` carries the settings and any keep_prob still pending."""
        self.show_for_width(lambda width: self._text_for(snapshot, context, max(20, width)))

    def on_resize(self) -> None:
        # A new height changes how many sentences fit; a new width alone is DiffView's to handle
        # (this handler takes its place, so it is called here).
        if self.size.height != self._height:
            self._height = self.size.height
            self.rebuild()
        else:
            super().on_resize()

    def _lines(self) -> int:
        return max(1, self.size.height or 3)  # the content's rows (the top border is not in size)

    def _text_for(self, snapshot: Snapshot, context: Context, width: int) -> Text:
        roles = self.roles
        styles = {"why": "", "harm": "", "fix": roles.fix.replace("bold", "").strip(), "note": roles.muted,
                  "warn": roles.bad}
        tagged = sentences(snapshot, context, short=width < SHORT_BELOW)
        if self.ascii_only:
            tagged = [(tag, glyphs.prose(sentence)) for tag, sentence in tagged]
        return fit(tagged, width, self._lines(), styles)
