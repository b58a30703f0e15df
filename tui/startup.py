"""Python's cyclic garbage collector during start-up: off until the app's first frame.

Start-up makes about a hundred thousand objects that live as long as the process (modules,
classes, functions, Textual's CSS rules and widgets) and very little garbage (some hundreds of
objects in reference cycles). The collector, run again and again while those objects are made,
walks them each time: about a tenth of the time to the app's first frame, measured by
``dropout-tui bench --ui``. So the console command turns it off before its heavy imports
(``pause_collector``) and turns it back on (``resume_collector``) as soon as it knows that it is
not starting the app, or else once the app's first frame is on screen.

Resuming freezes what start-up made (``gc.freeze``: it moves every object alive now into a
generation the collector no longer walks), so the full collections later, while the app trains,
do not walk those objects again either. The few cycles of start-up garbage frozen with them are
never freed; they are the same few hundred objects in every run.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Turn the cyclic garbage collector off until ``resume_collector`` (a no-op if it is off
    already: whoever turned it off turns it back on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Freeze the objects alive now and turn the collector back on, if ``pause_collector`` turned
    it off; otherwise do nothing. Safe to call any number of times, from the thread that paused."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
