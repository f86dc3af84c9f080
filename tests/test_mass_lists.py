"""One parser for every mass option (`--masses`, `--mass-range`, `--grid`): forms and errors."""

from __future__ import annotations

import pytest

from hep_pnn.errors import ConfigError
from hep_pnn.mass_lists import MAX_MASSES, parse_masses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500,750,1000", (500.0, 750.0, 1000.0)),
        (" 500, 750.5,", (500.0, 750.5)),
        ("400:2000:400", (400.0, 800.0, 1200.0, 1600.0, 2000.0)),
        ("400:450:20", (400.0, 420.0, 440.0)),  # STOP is included only when on the grid
        ("400:400.3:0.1", (400.0, 400.1, 400.2, 400.3)),  # rounded, not 400.30000000000001
        ("300,400:600:100", (300.0, 400.0, 500.0, 600.0)),
        ([1000, 812.5], (1000.0, 812.5)),
    ],
)
def test_accepted_forms(text, expected) -> None:
    assert parse_masses(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("500,abc", "mass 'abc' is not a number"),
        ("-5", "mass -5 is not a positive number"),
        ("inf", "mass inf is not a positive number"),
        ("500,500.0", "mass 500 given more than once"),
        ("400:600:100,500", "mass 500 given more than once"),
        ("900:400:50", "range '900:400:50' is empty"),
        ("400:600", "range '400:600' is not START:STOP:STEP"),
        ("400:600:0", "mass 0 is not a positive number"),
        ("1:20000:1", f"range '1:20000:1' has more than {MAX_MASSES} masses"),
        (" , ", "no mass given"),
    ],
)
@pytest.mark.parametrize("option", ["--masses", "--mass-range", "--grid"])
def test_one_error_for_every_option(text, reason, option) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_masses(text, option=option)
    message = str(caught.value)
    assert message.startswith(f"{option}: cannot read masses {text!r}: {reason}")
    assert "START:STOP:STEP" in message and "500,750,1000" in message
