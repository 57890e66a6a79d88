"""The demo generator's pure parts: FINESS numbers, profiles, answers aimed at a palier.

Expected paliers are the targets asked for (written here); every answer set is checked
through the engine's public `validate_answers` and `score`.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from app.demo.answers import AnswerBuilder
from app.demo.plan import plan_sites, tier_quotas
from app.demo.profile_answers import fit_profile, profile_answers
from app.demo.profiles import KIND_BY_CODE, de, finess_number
from app.structures.finess import validate
from scoring import Questionnaire, applicable, load_questionnaire, score, validate_answers

# Most of these tests read 2026.1 (the demo's history version); the palier tests run on both.
PATH = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"
)
PATH_2026_2 = PATH.with_name("esms-maturite-numerique-2026.2.yaml")
PROFILE_QUESTIONS = {
    "public_accueilli", "modalite", "medicalise", "capacite", "effectif_etp",
    "gestionnaire_multi", "finess_propre", "regroupement",
}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire(PATH)


@pytest.fixture(scope="module")
def builder(q: Questionnaire) -> AnswerBuilder:
    return AnswerBuilder(q)


@pytest.fixture(scope="module")
def builders(q: Questionnaire) -> dict[str, AnswerBuilder]:
    return {"2026.1": AnswerBuilder(q), "2026.2": AnswerBuilder(load_questionnaire(PATH_2026_2))}


@pytest.mark.parametrize(
    ("city", "expected"),
    [
        ("Gex", "de Gex"),
        ("Oyonnax", "d'Oyonnax"),
        ("Évreux", "d'Évreux"),
        ("Le Puy-en-Velay", "du Puy-en-Velay"),
        ("Les Sables-d'Olonne", "des Sables-d'Olonne"),
        ("La Rochelle", "de La Rochelle"),
    ],
)
def test_de_elides_and_contracts(city: str, expected: str) -> None:
    assert de(city) == expected


@pytest.mark.parametrize(
    ("department", "prefix"),
    [("01", "01"), ("69", "69"), ("2A", "2A"), ("2B", "2B"), ("973", "9703"), ("971", "9701")],
)
def test_finess_numbers_are_well_formed_with_a_valid_key(department: str, prefix: str) -> None:
    rng = random.Random(7)
    used: set[str] = set()
    numbers = [finess_number(department, rng, used) for _ in range(200)]
    assert len(set(numbers)) == 200
    assert used == set(numbers)
    for number in numbers:
        assert len(number) == 9
        assert number.startswith(prefix)
        check = validate(number)
        assert check.ok, (number, check.errors)
        assert check.warnings == [], number


def test_tier_quotas_largest_remainder() -> None:
    assert tier_quotas(100) == {0: 12, 1: 30, 2: 33, 3: 15, 4: 10}
    # 7 x shares = 0.84, 2.1, 2.31, 1.05, 0.7: floors 0, 2, 2, 1, 0; the two largest
    # remainders (paliers 0 and 4) get the last two.
    assert tier_quotas(7) == {0: 1, 1: 2, 2: 2, 3: 1, 4: 1}
    assert tier_quotas(0) == {0: 0, 1: 0, 2: 0, 3: 0, 4: 0}


@pytest.mark.parametrize(
    ("code", "public", "modalites", "medicalise", "categorie", "medicalisation"),
    [
        ("500", "personnes_agees", {"hebergement", "mixte"}, {"oui"}, "ehpad",
         {"equipe_medicale"}),  # EHPAD
        ("354", "domicile", {"domicile"}, {"oui"}, "sad_soins", {"soins_infirmiers"}),  # SSIAD
        ("460", "domicile", {"domicile"}, {"non"}, "sad_aide", {"non"}),  # SAA
        ("183", "enfants_handicapes", {"accueil_jour", "hebergement", "mixte"},
         {"oui", "non"}, "enfants_handicapes", {"soins_infirmiers", "non"}),  # IME
        ("255", "adultes_handicapes", {"hebergement"}, {"oui"}, "mas_fam",
         {"equipe_medicale"}),  # MAS
        ("437", "adultes_handicapes", {"hebergement"}, {"oui"}, "mas_fam",
         {"equipe_medicale"}),  # FAM
        ("246", "adultes_handicapes", {"accueil_jour"}, {"non"}, "esat", {"non"}),  # ESAT
        ("382", "adultes_handicapes", {"hebergement", "accueil_jour"}, {"oui", "non"},
         "adultes_handicapes", {"soins_infirmiers", "non"}),
        ("177", "protection_enfance", {"hebergement"}, {"non"}, "protection_enfance",
         {"non"}),  # MECS
        ("214", "inclusion_sociale", {"hebergement", "mixte"}, {"non"}, "chrs_ahi",
         {"non"}),  # CHRS
    ],
)
def test_profile_follows_the_category(q: Questionnaire, code: str, public: str,
                                      modalites: set[str], medicalise: set[str],
                                      categorie: str, medicalisation: set[str]) -> None:
    rng = random.Random(3)
    q2 = load_questionnaire(PATH_2026_2)
    for multi in (True, False):
        for target in range(5):
            both = profile_answers(KIND_BY_CODE[code], 64, multi, target, rng)
            new = fit_profile(q2, both)
            assert new["categorie"] == categorie
            assert new["medicalisation"] in medicalisation
            assert (new["medicalisation"] == "non") == (both["medicalise"] == "non")
            assert validate_answers(q2, new) == []
            p = fit_profile(q, both)
            assert set(p) == PROFILE_QUESTIONS
            assert p["public_accueilli"] == public
            assert p["modalite"] in modalites
            assert p["medicalise"] in medicalise
            assert p["capacite"] == 64
            assert p["gestionnaire_multi"] == ("oui" if multi else "non")
            assert p["effectif_etp"] > 0
            assert validate_answers(q, p) == []


KINDS_UNDER_TEST = ["500", "354", "460", "183", "255", "246", "382", "197", "214", "177"]


@pytest.mark.parametrize("version", ["2026.1", "2026.2"])
@pytest.mark.parametrize("code", KINDS_UNDER_TEST)
@pytest.mark.parametrize("target", [0, 1, 2, 3, 4])
def test_answers_land_on_the_target_palier(builders: dict[str, AnswerBuilder], version: str,
                                            code: str, target: int) -> None:
    builder = builders[version]
    q = builder.q
    rng = random.Random(f"{code}-{target}")
    for _ in range(5):
        profile = fit_profile(q, profile_answers(KIND_BY_CODE[code], 50, True, target, rng))
        answers, result = builder.build(profile, target, rng)
        assert validate_answers(q, answers) == []
        again = score(q, answers)
        assert again.to_dict() == result.to_dict()
        assert again.complete, again.missing_required
        assert again.tier_level == target
        for key, value in profile.items():
            assert answers[key] == value  # the profile is never changed
        # No answer to a question the profile hides.
        shown = applicable(q, answers)
        assert all(shown[qid] for qid in answers)
        if target < 4:
            above = next(t for t in again.tiers if t["level"] == target + 1)
            assert not above["met"]


def test_non_medicalised_service_reaches_palier_4_without_medication_answers(
    q: Questionnaire, builder: AnswerBuilder
) -> None:
    rng = random.Random(11)
    profile = fit_profile(q, profile_answers(KIND_BY_CODE["460"], 120, True, 4, rng))
    assert profile["medicalise"] == "non"
    answers, result = builder.build(profile, 4, rng)
    assert result.tier_level == 4
    assert "circuit_medicament" not in answers
    assert "e_prescription" not in answers


def test_satisfy_and_negate_conditions(q: Questionnaire, builder: AnswerBuilder) -> None:
    rng = random.Random(5)
    profile = fit_profile(q, profile_answers(KIND_BY_CODE["500"], 80, True, 2, rng))
    answers, _ = builder.build(profile, 2, rng)

    internet = {"question": "acces_internet",
                "in": ["cuivre_suffisant", "fibre_thd", "fibre_secours"]}
    assert builder.holds(internet, answers)  # a palier-1 requirement
    assert builder.negate(internet, answers, rng)
    assert answers["acces_internet"] in {"aucune", "cuivre_insuffisant"}

    ins = {"all": [{"question": "insi_appel", "equals": "oui"},
                   {"question": "part_identites_qualifiees", "at_least": 80}]}
    assert builder.satisfy(ins, answers, rng)
    assert answers["insi_appel"] == "oui"
    assert 80 <= answers["part_identites_qualifiees"] <= 100
    assert builder.negate(ins, answers, rng)
    assert not builder.holds(ins, answers)

    blocks = {"question": "procedures_si",
              "includes_all": ["arrivees_departs", "gestion_acces", "incidents"]}
    assert builder.satisfy(blocks, answers, rng)
    assert {"arrivees_departs", "gestion_acces", "incidents"} <= set(answers["procedures_si"])
    assert "aucune" not in answers["procedures_si"]
    assert builder.negate(blocks, answers, rng)
    assert answers["procedures_si"]  # never left empty: "aucune" or other options
    assert validate_answers(q, answers) == []

    # A profile answer is never changed: medicalise=oui cannot be made "non".
    medication = {"any": [{"question": "medicalise", "equals": "non"},
                          {"question": "circuit_medicament", "equals": "complet"}]}
    assert builder.satisfy(medication, answers, rng)
    assert answers["medicalise"] == "oui"
    assert answers["circuit_medicament"] == "complet"


def test_partial_keeps_the_first_questions(q: Questionnaire, builder: AnswerBuilder) -> None:
    rng = random.Random(9)
    profile = fit_profile(q, profile_answers(KIND_BY_CODE["183"], 40, False, 1, rng))
    answers, _ = builder.build(profile, 1, rng)
    for _ in range(20):
        draft = builder.partial(answers, rng)
        keys = list(draft)
        assert keys == list(answers)[: len(keys)]
        assert set(draft) >= PROFILE_QUESTIONS
        assert len(draft) < len(answers)
        assert validate_answers(q, draft) == []


def test_readme_example_answers(q: Questionnaire) -> None:
    """docs/examples/reponses-petit-ehpad.yaml, used in the README: a small EHPAD with a DUI
    but no INSi, MSSanté or Mon espace santé lands on palier 2."""
    path = PATH.parents[1] / "docs" / "examples" / "reponses-petit-ehpad.yaml"
    answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate_answers(q, answers) == []
    result = score(q, answers)
    assert result.complete
    assert result.tier_level == 2
    assert result.next_steps[0]["tier"] == "palier-3"


@pytest.mark.parametrize(("n", "regions"), [(6, 1), (7, None), (40, None), (320, 5),
                                            (5000, 18)])
def test_plan_keeps_the_requested_size(n: int, regions: int | None) -> None:
    sites, groups = plan_sites(n, random.Random(1), n > 1000)
    assert len(sites) == n
    if regions is not None:
        assert len({s.region for s in sites}) == regions
    # The demo director's organisme gestionnaire comes first, in the Ain.
    assert [s.name for s in sites[:2]] == ["EHPAD Les Tilleuls", "SSIAD du Pays de Gex"]
    assert {s.department for s in sites[:6]} == {"01"}
    per_group = [sum(1 for s in sites if s.group == g) for g in range(len(groups))]
    assert max(per_group) <= 15
    assert all(s.finess_ej == groups[s.group].ej for s in sites)
