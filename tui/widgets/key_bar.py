"""The bottom line: the keys that work now, in words.

Built like every other row here (``tui.widgets.rows``): entries from the app's bindings that are
active in this state (the app's ``check_action`` says which: pause or resume, no keep_prob keys in
a replay, n only while paused), keys of one group on one entry ("+ - keep_prob"). Short of width,
whole entries drop in the order ``drop_order`` gives for the state: the keys that do the most now
stay longest. keep_prob, pause / resume, n (paused), help and quit always stay.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from .diff_view import DiffView
from .rows import Part, fit_row

# Binding ids (or group names) that leave first, in this order. Running: the views go before the
# speed and reset, which act on the training under way. Paused: the speed goes first (it shows only
# once training resumes), then the map; the rules view stays longer, as paused is when it is
# evaluated at once and read; n goes only where even the rest does not fit (below the app's
# minimum size, where the screen asks for a larger window and q must stay whole).
DROP = ("rules", "map", "speed", "reset")
DROP_PAUSED = ("speed", "map", "rules", "reset", "step")


def drop_order(paused: bool) -> tuple[str, ...]:
    """The key bar's entries in the order they drop out when short of width."""
    return DROP_PAUSED if paused else DROP


class KeyBar(DiffView):
    DEFAULT_CSS = "KeyBar { dock: bottom; height: 1; }"

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda screen: self.refresh_keys())
        self.refresh_keys()

    def refresh_keys(self) -> None:
        entries = self.entries()
        self.show_for_width(lambda width: self._line(entries, width))

    def entries(self) -> list[tuple[str, str, str]]:
        """(name, keys, description) of every binding shown in this state, in the app's order."""
        active = {(b.binding.id or b.binding.action) for b in self.screen.active_bindings.values()}
        out: list[tuple[str, str, str]] = []
        groups: dict[str, int] = {}
        for binding in getattr(self.app, "KEYS", []):
            if not binding.show or (binding.id or binding.action) not in active:
                continue
            keys = self.app.get_key_display(binding)
            group = binding.group
            if group is not None:
                if group.description in groups:
                    name, shown, what = out[groups[group.description]]
                    out[groups[group.description]] = (name, f"{shown} {keys}", what)
                    continue
                groups[group.description] = len(out)
                out.append((_name(binding), keys, group.description))
            else:
                out.append((_name(binding), keys, binding.description))
        return out

    def _line(self, entries: list[tuple[str, str, str]], width: int) -> Text:
        key_style = self.roles.key
        parts = [Part(name, [Text.assemble((keys, key_style), " ", what), None], sep="  ")
                 for name, keys, what in entries]
        order = [name for name in drop_order(bool(getattr(self.app, "paused", False)))
                 if any(p.name == name for p in parts)]
        return fit_row(parts, order, max(1, width - 1))


def _name(binding: Binding) -> str:
    """The entry's name in DROP: the binding's id up to its first dot (speed.up -> speed)."""
    return (binding.id or binding.action).split(".")[0]
