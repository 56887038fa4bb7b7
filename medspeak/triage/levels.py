"""The five triage levels as a nurse reads them: name, colour and the longest safe wait.

Names and maximum waits from the KTAS manual (Korean Society of Emergency Medicine, 2016), colours
from CTAS (Bullard MJ et al., CJEM 2014), which KTAS adapts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from medspeak.i18n import N_

__all__ = ["LEVELS", "Level"]


@dataclass(frozen=True, slots=True)
class Level:
    number: int
    name: str
    colour: str  # hex, for the badge
    max_wait_minutes: int  # 0: immediately


LEVELS: Final = {
    1: Level(1, N_("Resuscitation"), "#1f5fbf", 0),
    2: Level(2, N_("Emergency"), "#d62728", 10),
    3: Level(3, N_("Urgent"), "#e6b800", 30),
    4: Level(4, N_("Less urgent"), "#2ca02c", 60),
    5: Level(5, N_("Non-urgent"), "#9e9e9e", 120),
}
