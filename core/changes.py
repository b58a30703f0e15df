"""Changes to a running experiment, interpreted in one place for live sessions and replays alike.

A key press in the app becomes a ``Change``; the trainer applies it with ``apply_change`` and records
it as an event; a replay reads the event back into the same ``Change`` (``Change.from_record``) and
applies it with the same function. Bit-identical replay rests on this being the only interpreter.

Kinds that change numbers: ``keep_prob`` and ``input_keep_prob`` (from the next step on), ``reset``
(both runs restart from the seed, keep probabilities kept) and ``dataset`` (a new experiment on
another dataset, keep probabilities kept). Kinds that change no number and are recorded for the
record's sake: ``pause``, ``resume``, ``step`` (one step while paused) and ``speed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .config import Config, ConfigError, check_keep_prob
from .data import CSV, DATASETS
from .experiment import PairedExperiment

CHANGE_KINDS = ("keep_prob", "input_keep_prob", "reset", "dataset")
NOTE_KINDS = ("pause", "resume", "step", "speed")
EVENT_KINDS = CHANGE_KINDS + NOTE_KINDS
RESTART_KINDS = ("reset", "dataset")  # after these the experiment starts again at step 0


class ChangeError(ValueError):
    """An event that cannot be applied. ``field`` names the offending field of the event."""

    def __init__(self, field: str, message: str):
        super().__init__(f"'{field}': {message}")
        self.field = field


@dataclass(frozen=True)
class Change:
    """One change. ``value``: the new keep probability (float), the dataset name or the speed label
    (str), else None. ``config``: the new experiment's config, for ``dataset`` only."""
    kind: str
    value: float | str | None = None
    config: Config | None = None

    def payload(self) -> dict[str, Any]:
        """What an event record carries besides its kind and step."""
        out: dict[str, Any] = {}
        if self.value is not None:
            out["value"] = self.value
        if self.config is not None:
            out["config"] = self.config.to_dict()
        return out

    @classmethod
    def from_record(cls, record: dict, current: Config) -> Change:
        """The change an event record describes, validated by the same code as the command line.
        ``current`` is the config of the experiment the event applies to (a dataset event without
        a config keeps it, with the dataset replaced). Raises ChangeError."""
        kind = record.get("kind")
        if kind not in EVENT_KINDS:
            raise ChangeError("kind", f"unknown event kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})")
        value = record.get("value")
        if kind in ("keep_prob", "input_keep_prob"):
            try:
                return cls(kind, check_keep_prob(value, kind))
            except ConfigError:
                raise ChangeError("value", f"expected a keep probability in (0, 1], got {value!r}") from None
        if kind == "dataset":
            if value not in (*DATASETS, CSV):
                raise ChangeError("value", f"unknown dataset {value!r}")
            raw = record.get("config")
            try:
                if raw is None:
                    config = current.with_changes(dataset=value)
                else:
                    config = Config.from_dict(raw)
            except ConfigError as exc:
                raise ChangeError("config", str(exc)) from None
            if config.dataset != value:
                raise ChangeError("config", f"is for dataset {config.dataset!r}, the event says {value!r}")
            return cls(kind, value, config)
        if kind == "speed":
            if value is not None and not isinstance(value, str):
                raise ChangeError("value", f"expected a speed label, got {value!r}")
            return cls(kind, value)
        return cls(kind)


def apply_change(exp: PairedExperiment, change: Change) -> PairedExperiment:
    """Apply ``change`` to ``exp``; returns the experiment to go on with (a new one after a
    ``dataset`` change). Kinds in NOTE_KINDS change nothing here."""
    kind = change.kind
    if kind == "keep_prob":
        exp.set_keep_prob(_prob(change.value))
    elif kind == "input_keep_prob":
        exp.set_input_keep_prob(_prob(change.value))
    elif kind == "reset":
        exp.reset()
    elif kind == "dataset":
        if change.config is None:
            raise ChangeError("config", "a dataset change needs the new experiment's config")
        exp = PairedExperiment(change.config, source=exp.source)
    return exp


def dataset_change(exp: PairedExperiment, name: str) -> Change:
    """The change to dataset ``name``, keeping the experiment's current keep probabilities (and
    any setting the user chose; see ``Config.follow_dataset``). Raises ConfigError when the sizes
    do not fit that dataset."""
    config = exp.config.follow_dataset(name, keep_prob=exp.keep_prob, input_keep_prob=exp.input_keep_prob)
    return Change("dataset", name, config)


def next_dataset_change(exp: PairedExperiment) -> Change | None:
    """The change to the next dataset in the cycle (the built-in sets, then the user's file if
    there is one) that the current train/test sizes fit (spiral and blobs have three classes and
    need more points), or None when no other one does."""
    names = [*DATASETS, *([CSV] if exp.config.data else [])]
    start = names.index(exp.config.dataset)
    for i in range(1, len(names)):
        try:
            return dataset_change(exp, names[(start + i) % len(names)])
        except ConfigError:
            continue
    return None


def _prob(value: object) -> float:
    if not isinstance(value, float) or not math.isfinite(value):
        raise ChangeError("value", f"expected a keep probability, got {value!r}")
    return value
