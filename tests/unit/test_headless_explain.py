"""``dropout-tui --headless --explain``: the sentences the app would show for the final snapshot."""

from __future__ import annotations

import json

from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.cli import main
from dropout_tui.tui.explain import Context, sentences

SMALL = ["--layers", "8,8", "--train-size", "60", "--test-size", "100", "--eval-every", "50", "--steps", "120"]


def expected() -> list[str]:
    config = Config(layers=(8, 8), train_size=60, test_size=100, eval_every=50)
    exp = PairedExperiment(config)
    exp.advance(120)
    # The final snapshot carries the prediction rules, and the sentences about them.
    return [text for _, text in sentences(exp.snapshot(rules=True), Context.of(config, exp.arch, keys=False))]


def test_json_carries_the_explanation_when_asked(capsys):
    assert main(["--headless", *SMALL, "--json", "--explain"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["explanation"] == expected() and out["explanation"]
    assert main(["--headless", *SMALL, "--json"]) == 0
    assert "explanation" not in json.loads(capsys.readouterr().out)


def test_the_table_is_followed_by_the_sentences(capsys):
    assert main(["--headless", *SMALL, "--explain"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps lines
    assert "test loss" in out
    for sentence in expected():
        assert " ".join(sentence.split()) in out


def test_explain_needs_headless(capsys):
    assert main(["--explain"]) == 2
    assert "--explain: only with --headless" in capsys.readouterr().err


def test_printed_sentences_name_options_not_the_apps_keys(capsys):
    # Both runs diverge at lr 5 on sine: the app's remedy is a key, the printed one an option.
    assert main(["--headless", "--dataset", "sine", "--steps", "3000", "--lr", "5", "--json", "--explain"]) == 0
    said = " ".join(json.loads(capsys.readouterr().out)["explanation"])
    assert "diverged" in said and "smaller --lr" in said
    assert "Press" not in said and "r resets" not in said
    assert main(["--headless", *SMALL, "--keep-prob", "1", "--json", "--explain"]) == 0
    said = " ".join(json.loads(capsys.readouterr().out)["explanation"])
    assert "--keep-prob below 1" in said and "Press" not in said
