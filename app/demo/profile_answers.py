"""Demo profile answers: the first section's answers of a structure of a kind and size
(every version's profile questions), fitted to one questionnaire version."""

from __future__ import annotations

import random
from typing import Any

from app.demo.profiles import Kind
from app.reference import finess_categories
from scoring import Questionnaire

# FINESS category -> the `categorie` profile question (2026.2).
CATEGORIE: dict[str, str] = {
    "500": "ehpad", "202": "residence_autonomie", "207": "residence_autonomie",
    "354": "sad_soins", "209": "sad_soins", "460": "sad_aide",
    "183": "enfants_handicapes", "182": "enfants_handicapes", "186": "enfants_handicapes",
    "189": "enfants_handicapes", "190": "enfants_handicapes", "192": "enfants_handicapes",
    "255": "mas_fam", "437": "mas_fam", "448": "mas_fam",
    "449": "adultes_handicapes", "382": "adultes_handicapes", "252": "adultes_handicapes",
    "446": "adultes_handicapes", "445": "adultes_handicapes",
    "246": "esat", "197": "addictologie", "214": "chrs_ahi", "177": "protection_enfance",
}
# Medicalised categories whose own medical team prescribes and administers (EHPAD, MAS,
# FAM, EAM); the other medicalised ones have nursing care only (SSIAD, SAMSAH, IME...).
MEDICAL_TEAM = frozenset({"500", "255", "437", "448"})
# Values an older version did not have: their counterpart there.
OLDER_VALUES: dict[str, dict[str, str]] = {"modalite": {"hebergement_accueil_jour": "hebergement"}}


def profile_answers(kind: Kind, capacity: int, multi_site: bool, target: int,
                    rng: random.Random) -> dict[str, Any]:
    """The profile of a structure of this category and size, with the profile questions of
    every version (2026.1 `medicalise`, 2026.2 `categorie` and `medicalisation`): pass it
    through `fit_profile` for one version."""
    category = finess_categories()[kind.code]
    grouped = rng.random() < (0.75 if target >= 2 else 0.35)
    modalite = rng.choice(kind.modalites)
    medical = rng.random() < kind.medicalised
    return {
        "categorie": CATEGORIE.get(kind.code, "autre"),
        "public_accueilli": category.sector,
        "modalite": modalite,
        "medicalise": "oui" if medical else "non",
        "medicalisation": ("non" if not medical else
                           "equipe_medicale" if kind.code in MEDICAL_TEAM
                           else "soins_infirmiers"),
        "capacite": capacity,
        "effectif_etp": round(capacity * kind.staff_per_place * rng.uniform(0.8, 1.2), 1),
        "gestionnaire_multi": "oui" if multi_site else "non",
        "finess_propre": "oui" if rng.random() < 0.97 else "non",
        "regroupement": "oui" if grouped else rng.choice(["en_cours", "non"]),
    }


def fit_profile(q: Questionnaire, profile: dict[str, Any]) -> dict[str, Any]:
    """The profile answers of `q`'s first section (values it lacks mapped to older ones)."""
    out: dict[str, Any] = {}
    for qu in q.sections[0].questions:
        if qu.id not in profile:
            continue
        value = profile[qu.id]
        options = {o.value for o in qu.options or []}
        if options and value not in options:
            value = OLDER_VALUES.get(qu.id, {}).get(value, value)
        out[qu.id] = value
    return out
