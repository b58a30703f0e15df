"""The colours our panels use, derived from the app's theme so that every theme stays legible.

Each role (muted labels, the keep_prob value, the ×p line, each loss curve…) starts from a hue —
the theme's own where it has one (success, warning, error, accent), a fixed one for the curves so
they read the same in every theme — and is moved towards the theme's foreground until its WCAG
contrast against every background it is drawn on reaches ``MIN_CONTRAST``. Themes whose colours
are the terminal's own (the ANSI themes) cannot be checked, so the app does not offer them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.color import Color, ColorParseError

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text
UNCHECKABLE_THEMES = ("ansi-dark", "ansi-light")  # colours are whatever the terminal's palette says

# Fixed hues for the loss curves: blue and orange read apart for the commonest colour blindness.
CURVE_HUES = {"train_loss_dropout": "#9e9e9e", "train_loss": "#00afff", "test_loss": "#ffaf00"}
FIX_HUE = "#d787ff"  # the ×p line: neither run's colour


def luminance(c: Color) -> float:
    """WCAG relative luminance of an opaque colour (W3C, WCAG 2.1 §1.4.3 definition)."""
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def legible(hue: Color, backgrounds: list[Color], towards: Color, target: float = MIN_CONTRAST) -> Color:
    """``hue`` blended towards ``towards`` (the theme's foreground, or black / white) just enough
    to reach ``target`` contrast against every background."""
    def worst(c: Color) -> float:
        return min(contrast(c, bg) for bg in backgrounds)

    if worst(hue) >= target:
        return hue
    for end in (towards, Color(0, 0, 0) if luminance(backgrounds[0]) > 0.18 else Color(255, 255, 255)):
        for i in range(1, 21):
            c = hue.blend(end, i / 20)
            if worst(c) >= target:
                return c
    return towards


@dataclass(frozen=True)
class Roles:
    """Rich style strings for each role ("" everywhere without colour)."""
    muted: str = ""  # labels beside values, captions
    faint: str = ""  # the empty part of the keep_prob bar, the chart's axis
    header: str = "bold"  # table headers
    good: str = ""
    warn: str = ""
    bad: str = "bold"
    knob: str = "bold"  # keep_prob's value
    fix: str = "bold"  # the ×p at test line
    marker: str = "reverse bold"  # the REPLAY marker
    series: dict[str, str] = field(default_factory=lambda: {name: "" for name in CURVE_HUES} | {"overlap": "bold"})
    key: str = "bold"  # a key's name in the key bar
    # Plain text colour on each surface ("" = the theme's foreground as it is).
    on_panel: str = ""
    on_surface: str = ""
    on_footer: str = ""
    # What each role was made of and the surfaces it is drawn on, for the contrast test.
    colours: dict[str, Color] = field(default_factory=dict)
    surfaces: dict[str, list[Color]] = field(default_factory=dict)


def _parse(value: str | None, fallback: Color) -> Color:
    try:
        return Color.parse(value) if value else fallback
    except ColorParseError:  # "auto 87%", "ansi_default" and other non-colours
        return fallback


def roles_for(variables: dict[str, str], no_color: bool = False) -> Roles:
    """The roles for a theme's CSS variables (``App.get_css_variables()``)."""
    if no_color:
        return Roles()
    background = _parse(variables.get("background"), Color(18, 18, 18))
    panel = _parse(variables.get("panel"), background)
    surface = _parse(variables.get("surface"), background)
    footer = _parse(variables.get("footer-background"), panel)
    foreground = _parse(variables.get("foreground"), Color(224, 224, 224))
    surfaces = [background, panel]

    def role(value: str | Color) -> Color:
        hue = value if isinstance(value, Color) else _parse(variables.get(value, value), foreground)
        return legible(hue, surfaces, foreground)

    muted = legible(foreground.blend(background, 0.35), surfaces, foreground)
    colours = {
        "muted": muted,
        "faint": legible(foreground.blend(background, 0.6), surfaces, foreground, 3.0),
        "good": role("success"), "warn": role("warning"), "bad": role("error"),
        "knob": role("accent"), "fix": role(Color.parse(FIX_HUE)),
        **{f"series.{name}": role(Color.parse(hue)) for name, hue in CURVE_HUES.items()},
        "series.overlap": legible(foreground, surfaces, foreground),
        "on_panel": legible(foreground, [panel], foreground),
        "on_surface": legible(foreground, [surface], foreground),
        "on_footer": legible(_parse(variables.get("footer-description-foreground"), foreground), [footer], foreground),
        "key": legible(_parse(variables.get("footer-key-foreground"), foreground), [footer], foreground),
        "text": legible(foreground, [background], foreground),
    }
    where = {name: surfaces for name in colours}
    where.update(on_panel=[panel], on_surface=[surface], on_footer=[footer], key=[footer], text=[background])
    marker_bg = role("accent")
    marker_fg = background if contrast(background, marker_bg) >= contrast(foreground, marker_bg) else foreground

    def hexed(c: Color) -> str:
        return c.hex6

    return Roles(
        muted=hexed(colours["muted"]), faint=hexed(colours["faint"]), header=f"bold {hexed(muted)}",
        good=f"bold {hexed(colours['good'])}", warn=f"bold {hexed(colours['warn'])}",
        bad=f"bold {hexed(colours['bad'])}", knob=f"bold {hexed(colours['knob'])}",
        fix=f"bold {hexed(colours['fix'])}", marker=f"bold {hexed(marker_fg)} on {hexed(marker_bg)}",
        series={name: hexed(colours[f"series.{name}"]) for name in (*CURVE_HUES, "overlap")},
        key=f"bold {hexed(colours['key'])}", on_panel=hexed(colours["on_panel"]),
        on_surface=hexed(colours["on_surface"]), on_footer=hexed(colours["on_footer"]),
        colours=colours, surfaces=where,
    )
