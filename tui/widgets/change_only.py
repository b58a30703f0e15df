"""A Static that refreshes only when its text really changed.

Every refresh re-sends the widget's whole region to the terminal, which is what SSH links and
recordings pay for; most ticks change nothing in most panels."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ChangeOnlyStatic(Static):
    _last: Text | None = None

    def show(self, text: Text) -> None:
        if self._last is not None and text.plain == self._last.plain and text.spans == self._last.spans:
            return
        self._last = text
        self.update(text)
