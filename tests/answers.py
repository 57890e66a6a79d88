"""Answer sets for the questionnaire version new drafts use (esms-maturite-numerique 2026.2),
for integration and browser tests. Tests about 2026.1 itself import
`tests.unit.test_real_questionnaire` and say so.

    best("ehpad")                      # every sector's best answers: palier 4
    best("ehpad", wifi="aucun")        # with overrides
    PETIT_EHPAD                        # docs/examples/reponses-petit-ehpad-2026.2.yaml: palier 2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.unit.test_questionnaire_2026_2 import COMMON_BEST, PROFILES

VERSION = "2026.2"
EXAMPLE = (Path(__file__).resolve().parents[1] / "docs" / "examples"
           / "reponses-petit-ehpad-2026.2.yaml")
PETIT_EHPAD: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
# The 2026.1 profile names the older tests used, in 2026.2 terms.
ALIASES = {"ssiad": "sad"}


def best(profile: str, **overrides: Any) -> dict[str, Any]:
    """Best answers of a sector profile (ehpad, sad/ssiad, ime, esat, mas, chrs)."""
    return {**COMMON_BEST, **PROFILES[ALIASES.get(profile, profile)], **overrides}


def shown_only(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the questions shown for these answers (show_if), as a person fills in
    the form: a browser test cannot answer a hidden question."""
    from scoring import applicable, load_questionnaire

    q = load_questionnaire(Path(__file__).resolve().parents[1] / "questionnaires"
                           / f"esms-maturite-numerique-{VERSION}.yaml")
    shown = applicable(q, answers)
    return {k: v for k, v in answers.items() if shown.get(k)}
