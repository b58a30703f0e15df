"""A text panel that repaints only the cells that changed.

Every repaint is sent to the terminal, and that is what SSH links and recordings pay for
(measured at 80×24: tens of kB/s for whole-region repaints). A plain Static re-sends its whole
region when one digit changes; this widget keeps the previous lines, finds the first and last
differing cell on each line and refreshes just that span, so a ticking step counter costs a few
dozen bytes instead of a screen.
"""

from __future__ import annotations

from itertools import zip_longest

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from .glyphs import text_cells
from .theme import Roles

Cells = list[tuple[str, Style | None]]


class DiffView(Widget):
    DEFAULT_CSS = "DiffView { height: auto; }"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._text: Text | None = None
        self._cells: list[Cells] = []
        self._strips: list[Strip] = []
        self._width = 0
        self._builder = None

    @property
    def roles(self) -> Roles:
        """The app's colours for each role (plain ones outside a DropoutApp)."""
        return getattr(self.app, "roles", None) or Roles()

    @property
    def ascii_only(self) -> bool:
        return bool(getattr(self.app, "ascii_only", False))

    def show_for_width(self, build) -> None:
        """Show ``build(width)``, and build again whenever the width changes."""
        self._builder = build
        if self.size.width > 0:
            self.show(build(self.size.width))

    def rebuild(self) -> None:
        """Build again for the current width (after a change of theme or glyphs)."""
        if self._builder is not None and self.size.width > 0:
            self._text = None
            self.show(self._builder(self.size.width))

    def show(self, text: Text) -> None:
        if self.ascii_only:
            text = text_cells(text)
        # The same text at the same width: nothing to draw. At a new width (a resize with nothing
        # new to say) it is wrapped anew.
        if self._text is not None and text.plain == self._text.plain and text.spans == self._text.spans \
                and text.style == self._text.style and self.size.width == self._width:
            return
        self._text = text
        self._relayout(self.size.width)

    def on_resize(self) -> None:
        if self.size.width == self._width:
            return
        if self._builder is not None:
            self.show(self._builder(self.size.width))
        elif self._text is not None:
            self._relayout(self.size.width)

    def _relayout(self, width: int) -> None:
        if width <= 0 or self._text is None:
            return
        console = self.app.console
        lines = self._text.wrap(console, width, overflow="crop", no_wrap=False)
        rendered = [list(line.render(console)) for line in lines]
        new_cells = [_cells(segments) for segments in rendered]
        old_cells = self._cells
        # Strips keep Rich's runs of one style: a segment per cell would cost an escape per cell.
        self._strips = [Strip(segments).simplify().adjust_cell_length(width) for segments in rendered]
        self._cells = new_cells
        # A layout pass repaints the whole screen: only when the width changed, or the line count
        # changed in a widget whose height follows its content.
        height = self.styles.height
        if width != self._width or (len(new_cells) != len(old_cells) and height is not None and height.is_auto):
            self._width = width
            self.refresh(layout=True)
            return
        empty: Cells = []
        for y, (old, new) in enumerate(zip_longest(old_cells, new_cells, fillvalue=empty)):
            span = _changed_span(old, new)
            if span:
                self.refresh(Region(span[0], y, span[1] - span[0], 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self._text is None:
            return 1
        if width != self._width:
            return len(self._text.wrap(self.app.console, max(1, width), overflow="crop"))
        return max(1, len(self._cells))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self._strips):
            strip = self._strips[y]
            if strip.cell_length != width:
                strip = strip.adjust_cell_length(width)
        else:
            strip = Strip.blank(width)
        return strip.apply_style(self.rich_style)


def _cells(segments) -> Cells:
    out: Cells = []
    for seg in segments:
        if seg.control:
            continue
        out.extend((ch, seg.style) for ch in seg.text)
    return out


def _changed_span(old: Cells, new: Cells) -> tuple[int, int] | None:
    """[start, end) of cells that differ, or None."""
    first = None
    last = -1
    for i, (a, b) in enumerate(zip_longest(old, new)):
        if a != b:
            if first is None:
                first = i
            last = i
    return None if first is None else (first, last + 1)
