"""Carrying 2026.1 answers over to 2026.2 with the migration map (app/assessments/carry_over.py).

Expected values worked out by hand from
questionnaires/migrations/esms-maturite-numerique-2026.1-to-2026.2.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.assessments.carry_over import (
    MigrationMap,
    MigrationMapError,
    Moved,
    check_map,
    load_maps,
    migrate,
    parse_map,
)
from scoring import Questionnaire, load_questionnaire

ROOT = Path(__file__).resolve().parents[2] / "questionnaires"
KEY = ("esms-maturite-numerique", "2026.1")


@pytest.fixture(scope="module")
def the_map() -> MigrationMap:
    maps, errors = load_maps(ROOT / "migrations")
    assert errors == []
    return maps[KEY]


@pytest.fixture(scope="module")
def v2() -> Questionnaire:
    return load_questionnaire(ROOT / "esms-maturite-numerique-2026.2.yaml")


def test_the_real_map_fits_both_versions(the_map: MigrationMap, v2: Questionnaire) -> None:
    v1 = load_questionnaire(ROOT / "esms-maturite-numerique-2026.1.yaml")
    assert (the_map.from_version, the_map.to_version) == ("2026.1", "2026.2")
    assert check_map(the_map, v1, v2) == []


def test_kept_renamed_option_renames_and_dropped(the_map: MigrationMap,
                                                 v2: Questionnaire) -> None:
    answers = {
        "wifi": "complet",  # kept as is
        "capacite": 30,  # kept as is
        "medicalise": "non",  # renamed: medicalisation, non -> non
        "messagerie_nominative": "tous",  # option renamed: tous -> partielle
        "dmp_documents": ["vsm", "dlu", "lettre_liaison"],  # received ones dropped
        "dui_segur": "montee_prevue",  # option gone: ask again
        "ror": "non",  # "non, ou je ne sais pas": ask again
    }
    out = migrate(answers, the_map, v2)
    assert out.answers == {"wifi": "complet", "capacite": 30, "medicalisation": "non",
                           "messagerie_nominative": "partielle", "dmp_documents": ["dlu"]}
    assert out.kept == ["capacite", "wifi"]  # questionnaire order, whatever the stored order
    assert out.moved == [
        Moved("medicalise", "medicalisation", "non", "non"),
        Moved("messagerie_nominative", "messagerie_nominative", "tous", "partielle"),
        Moved("dmp_documents", "dmp_documents", ["vsm", "dlu", "lettre_liaison"], ["dlu"]),
    ]
    assert out.ask_again == ["dui_segur", "ror"]
    assert out.removed == []
    assert out.added == ["categorie", "segur_vague2", "dui_consultation_dmp"]
    assert sorted(out.notes) == ["dmp_documents", "dui_segur", "medicalisation",
                                 "messagerie_nominative", "ror"]
    assert out.notes["ror"].startswith("« Non » et « Je ne sais pas »")


def test_medicalise_oui_must_be_given_again(the_map: MigrationMap) -> None:
    out = migrate({"medicalise": "oui", "messagerie_nominative": "partielle"}, the_map)
    assert out.answers == {}
    assert out.ask_again == ["medicalisation", "messagerie_nominative"]


def test_only_received_documents_leave_nothing_to_carry(the_map: MigrationMap) -> None:
    out = migrate({"dmp_documents": ["vsm", "lettre_liaison"]}, the_map)
    assert out.answers == {} and out.ask_again == ["dmp_documents"]


def test_an_answer_the_new_version_refuses_is_asked_again(the_map: MigrationMap,
                                                           v2: Questionnaire) -> None:
    # An unknown question id (not in the map) is removed; a value 2026.2 refuses is asked.
    out = migrate({"question_inconnue": "x", "capacite": -5}, the_map, v2)
    assert out.answers == {} and out.removed == ["question_inconnue"]
    assert out.ask_again == ["capacite"]


def test_a_broken_map_is_refused() -> None:
    with pytest.raises(MigrationMapError, match="action"):
        parse_map({"from": {"id": "x", "version": "1"}, "to": {"id": "x", "version": "2"},
                   "questions": {"a": {"action": "moved"}}})
    with pytest.raises(MigrationMapError, match="même questionnaire"):
        parse_map({"from": {"id": "x", "version": "1"}, "to": {"id": "y", "version": "2"},
                   "questions": {"a": {"action": "kept"}}})
