"""The real questionnaire `esms-maturite-numerique` 2026.2 (issue 9 §3-4), through the engine.

Sector profiles (EHPAD, SAD with care, IME, ESAT, MAS, CHRS): best answers reach palier 4; a
requirement outside a sector never blocks it while the same answer blocks a sector it applies
to; an all-"je ne sais pas" assessment is complete, eligible to nothing, and its next steps that
read an unknown answer are marked to verify; a `resource` is never reported eligible.

These tests use the result keys of contract Revision 2 (`applies`, `met`, `unknown`,
`to_verify`, `eligible`, `kind`, `conditions`). Every expected value is worked out by hand from
the YAML files. The content checks at the end (catalogue, migration map, labels) read the YAML
files only and run with any engine.
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import QuestionnaireError, load_questionnaire, score, validate_answers
from scoring.generate import generate_answers

ROOT = Path(__file__).resolve().parents[2] / "questionnaires"
PATH = ROOT / "esms-maturite-numerique-2026.2.yaml"
PATH_2026_1 = ROOT / "esms-maturite-numerique-2026.1.yaml"
CATALOGUE = ROOT / "programmes.yaml"
MIGRATION = ROOT / "migrations" / "esms-maturite-numerique-2026.1-to-2026.2.yaml"

# Keys that only an engine implementing contract Revision 2 knows.
_REV2_KEYS = ("« kind »", "« unknown »", "« applies_if »", "« sources »",
              "« eligible_if » manquante")


def _load() -> Any:
    try:
        return load_questionnaire(PATH)
    except QuestionnaireError as e:
        messages = [str(err) for err in e.errors]
        if messages and all(any(k in m for k in _REV2_KEYS) for m in messages):
            pytest.skip("the engine does not implement contract Revision 2 yet")
        raise


@pytest.fixture(scope="module")
def q() -> Any:
    return _load()


TIER_REQUIREMENTS = {
    "palier-0": [],
    "palier-1": ["internet-suffisant", "postes-terrain", "messagerie-nominative",
                 "comptes-nominatifs", "sauvegardes-regulieres", "referent-numerique-designe",
                 "signalement-incidents-connu"],
    "palier-2": ["dui-en-production", "dui-blocs-socles", "dui-usage-quotidien",
                 "dui-version-segur", "dui-acces-nomade", "hebergement-donnees-conforme",
                 "rgpd-socle"],
    "palier-3": ["ins-qualifiee", "identitovigilance-formalisee", "mssante-utilisee",
                 "dmp-alimente", "rpps-plus-engage", "ror-a-jour",
                 "circuit-medicament-informatise", "dui-actifs-cible"],
    "palier-4": ["sdsi-formalise", "ressources-si-mutualisees", "indicateurs-usage-suivis",
                 "authentification-forte", "sauvegardes-testees", "pcra-exerce",
                 "coordination-ou-telesante", "procedures-formalisees", "plan-formation-annuel",
                 "referent-temps-dedie"],
}

FUNDING_KINDS = {
    "esms-numerique": "funding",
    "segur-vague-2-ms": "funding",
    "care-cybersecurite": "resource",
    "rpps-plus": "resource",
    "appui-regional": "resource",
    "cert-sante": "resource",
}

# ---- hand-written answer sets ------------------------------------------------------------

COMMON_BEST: dict[str, Any] = {
    "capacite": 60,
    "effectif_etp": 45,
    "gestionnaire_multi": "oui",
    "finess_propre": "oui",
    "regroupement": "oui",
    "acces_internet": "fibre_secours",
    "wifi": "complet",
    "part_professionnels_equipes": 90,
    "terminaux_mobiles": "tous",
    "parc_maintenu": "oui",
    "messagerie_nominative": "tous",
    "hebergement_donnees": "hds",
    "dui_production": "tous",
    "dui_logiciel": "Logiciel DUI retenu par le regroupement",
    "dui_segur": "oui",
    "segur_vague2": "installee",
    "dui_fonctions": ["gestion_administrative", "admission", "projet_personnalise", "soins",
                      "accompagnement", "coordination", "relation_usager"],
    "part_pros_dui_quotidien": 90,
    "part_dui_actifs": 95,
    "acces_nomade_dui": "saisie",
    "circuit_medicament": "complet",
    "insi_appel": "oui",
    "part_identites_qualifiees": 92,
    "identitovigilance": "formalise",
    "mssante": "integree",
    "mssante_messages_mois": 60,
    "dmp_alimentation": "systematique",
    "dmp_documents": ["projet_personnalise", "dlu", "plan_soins", "autre_document"],
    "dui_consultation_dmp": "depuis_dui",
    "rpps_plus": "oui",
    "ecps_psc": "generalise",
    "ror": "a_jour",
    "e_prescription": "oui",
    "e_parcours": "regulier",
    "telesante": ["teleconsultation", "teleexpertise", "telesoin", "telesurveillance"],
    "dlu_urgences": "numerique",
    "admissions_viatrajectoire": "oui",
    "orientation_handicap": "oui",
    "echanges_partenaires": ["messagerie_securisee", "agenda_partage", "dossier_partage",
                             "visio_securisee"],
    "services_en_ligne_usagers": ["information", "demarches", "portail_familles", "rendez_vous"],
    "sdsi": "formalise",
    "referent_numerique": "temps_dedie",
    "ressources_si": "mutualisees",
    "budget_si": "annuel",
    "procedures_si": ["arrivees_departs", "gestion_acces", "incidents", "choix_logiciels"],
    "indicateurs_usage": "oui",
    "association_usagers": "systematique",
    "comptes_nominatifs": "oui",
    "authentification_forte": "oui",
    "sauvegardes": "testees_hors_ligne",
    "pca_pra": "exerce",
    "signalement_incidents": "pratiquee",
    "rgpd": ["dpo", "registre", "information_usagers"],
    "mises_a_jour": "oui",
    "part_sensibilises_cyber": 85,
    "diagnostic_cyber": "realise",
    "part_formes_dui": 90,
    "plan_formation_numerique": "annuel",
    "referents_metiers": "chaque_equipe",
    "satisfaction_outils": 5,
    "accompagnement_usagers_numerique": "organise",
    "commentaires": "Projet commun avec le regroupement.",
}

PROFILES: dict[str, dict[str, Any]] = {
    "ehpad": {"categorie": "ehpad", "public_accueilli": "personnes_agees",
              "modalite": "hebergement", "medicalisation": "equipe_medicale"},
    "sad": {"categorie": "sad_soins", "public_accueilli": "domicile",
            "modalite": "domicile", "medicalisation": "soins_infirmiers"},
    "ime": {"categorie": "enfants_handicapes", "public_accueilli": "enfants_handicapes",
            "modalite": "hebergement_accueil_jour", "medicalisation": "soins_infirmiers"},
    "esat": {"categorie": "esat", "public_accueilli": "adultes_handicapes",
             "modalite": "accueil_jour", "medicalisation": "non"},
    "mas": {"categorie": "mas_fam", "public_accueilli": "adultes_handicapes",
            "modalite": "hebergement", "medicalisation": "equipe_medicale"},
    "chrs": {"categorie": "chrs_ahi", "public_accueilli": "inclusion_sociale",
             "modalite": "hebergement", "medicalisation": "non"},
}

# Requirements that do not apply to each profile (worked out from each `applies_if`).
NOT_APPLICABLE = {
    "ehpad": {"dui-acces-nomade"},
    "sad": {"circuit-medicament-informatise"},
    "ime": {"dui-acces-nomade", "circuit-medicament-informatise"},
    "esat": {"dui-acces-nomade", "mssante-utilisee", "dmp-alimente",
             "circuit-medicament-informatise"},
    "mas": {"dui-acces-nomade"},
    "chrs": {"dui-acces-nomade", "mssante-utilisee", "dmp-alimente", "ror-a-jour",
             "circuit-medicament-informatise"},
}

# The worst answers to what each sector does not do; its placement must stay at palier 4.
# (A question hidden by such an answer is dropped from the answer set.)
OUT_OF_SECTOR_WORST: dict[str, tuple[dict[str, Any], list[str]]] = {
    "ehpad": ({"acces_nomade_dui": "non"}, []),
    "sad": ({"circuit_medicament": "non"}, []),
    "ime": ({"circuit_medicament": "non", "acces_nomade_dui": "non"}, []),
    "esat": ({"mssante": "non", "dmp_alimentation": "non", "circuit_medicament": "non",
              "acces_nomade_dui": "non"}, ["mssante_messages_mois", "dmp_documents"]),
    "mas": ({"acces_nomade_dui": "non"}, []),
    "chrs": ({"mssante": "non", "dmp_alimentation": "non", "ror": "non",
              "circuit_medicament": "non", "acces_nomade_dui": "non"},
             ["mssante_messages_mois", "dmp_documents"]),
}


def best(profile: str) -> dict[str, Any]:
    return {**COMMON_BEST, **PROFILES[profile]}


def result_of(q: Any, answers: dict[str, Any]) -> dict[str, Any]:
    assert validate_answers(q, answers) == []
    out: dict[str, Any] = score(q, answers).to_dict()
    return out


def requirements(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for t in result["tiers"] for r in t["requirements"]}


# ---- sector profiles ---------------------------------------------------------------------


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_best_answers_reach_palier_4_in_every_sector(q: Any, profile: str) -> None:
    r = result_of(q, best(profile))
    assert r["complete"] is True
    assert r["missing_required"] == []
    assert r["unknown"] == []
    assert r["tier"]["id"] == "palier-4"
    assert r["next_steps"] == []
    assert r["global_score"] == 100.0
    assert [t["id"] for t in r["tiers"]] == list(TIER_REQUIREMENTS)
    for t in r["tiers"]:
        assert [x["id"] for x in t["requirements"]] == TIER_REQUIREMENTS[t["id"]]
        assert t["met"] is True
    for rid, req in requirements(r).items():
        if rid in NOT_APPLICABLE[profile]:
            assert req["applies"] is False, rid
            assert req["met"] is None, rid
        else:
            assert req["applies"] is True, rid
            assert req["met"] is True, rid


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_requirement_outside_a_sector_never_blocks_it(q: Any, profile: str) -> None:
    overrides, dropped = OUT_OF_SECTOR_WORST[profile]
    answers = {k: v for k, v in best(profile).items() if k not in dropped} | overrides
    r = result_of(q, answers)
    assert r["complete"] is True
    assert r["tier"]["id"] == "palier-4"
    assert r["next_steps"] == []
    reqs = requirements(r)
    for rid in NOT_APPLICABLE[profile]:
        assert reqs[rid]["applies"] is False
        assert reqs[rid]["met"] is None


@pytest.mark.parametrize(("profile", "overrides", "dropped", "tier", "blocking"), [
    # The same answers block the sectors the requirement applies to.
    ("ehpad", {"circuit_medicament": "non"}, [], "palier-2", "circuit-medicament-informatise"),
    ("mas", {"circuit_medicament": "partiel"}, [], "palier-2", "circuit-medicament-informatise"),
    ("sad", {"acces_nomade_dui": "consultation"}, [], "palier-1", "dui-acces-nomade"),
    ("ehpad", {"dmp_alimentation": "non"}, ["dmp_documents"], "palier-2", "dmp-alimente"),
    ("ime", {"mssante": "oui"}, [], "palier-2", "mssante-utilisee"),
    ("esat", {"ror": "ancienne"}, [], "palier-2", "ror-a-jour"),
])
def test_the_same_answer_blocks_a_sector_it_applies_to(
    q: Any, profile: str, overrides: dict[str, Any], dropped: list[str], tier: str,
    blocking: str,
) -> None:
    answers = {k: v for k, v in best(profile).items() if k not in dropped} | overrides
    r = result_of(q, answers)
    assert r["tier"]["id"] == tier
    req = requirements(r)[blocking]
    assert req["applies"] is True
    assert req["met"] is False
    assert [s["requirement"] for s in r["next_steps"]] == [blocking]
    assert r["next_steps"][0]["to_verify"] is False


def test_ehpad_dmp_feeding_needs_the_dlu_and_qualified_ins(q: Any) -> None:
    no_dlu = best("ehpad") | {"dmp_documents": ["projet_personnalise", "plan_soins"]}
    assert requirements(result_of(q, no_dlu))["dmp-alimente"]["met"] is False
    # A SAD sends its projet personnalisé d'accompagnement; no DLU is asked of it.
    sad = best("sad") | {"dmp_documents": ["projet_personnalise"]}
    assert requirements(result_of(q, sad))["dmp-alimente"]["met"] is True
    no_insi = best("sad") | {"insi_appel": "en_cours"}
    assert requirements(result_of(q, no_insi))["dmp-alimente"]["met"] is False


def test_mssante_at_palier_3_reads_usage(q: Any) -> None:
    assert requirements(result_of(q, best("ehpad") | {"mssante_messages_mois": 3})
                        )["mssante-utilisee"]["met"] is False
    assert requirements(result_of(q, best("ehpad") | {"mssante_messages_mois": 4})
                        )["mssante-utilisee"]["met"] is True


def test_questions_about_the_dui_are_not_asked_without_a_dui(q: Any) -> None:
    from scoring import applicable

    shown = applicable(q, best("ehpad") | {"dui_production": "non"})
    for qid in ("insi_appel", "dmp_alimentation", "dui_consultation_dmp", "segur_vague2",
                "dui_fonctions", "part_pros_dui_quotidien", "part_dui_actifs", "dui_segur"):
        assert shown[qid] is False, qid


# ---- "je ne sais pas" ----------------------------------------------------------------------

ALL_UNKNOWN_EHPAD: dict[str, Any] = {
    **PROFILES["ehpad"],
    "capacite": 60, "effectif_etp": 45, "gestionnaire_multi": "non",
    "finess_propre": "ne_sait_pas", "regroupement": "non",
    "acces_internet": "aucune", "wifi": "aucun", "part_professionnels_equipes": 0,
    "terminaux_mobiles": "non", "parc_maintenu": "non", "messagerie_nominative": "non",
    "hebergement_donnees": "ne_sait_pas",
    "dui_production": "tous", "dui_segur": "ne_sait_pas", "segur_vague2": "ne_sait_pas",
    "dui_fonctions": ["aucune"], "part_pros_dui_quotidien": 0, "part_dui_actifs": 0,
    "circuit_medicament": "non",
    "insi_appel": "ne_sait_pas", "identitovigilance": "non", "mssante": "ne_sait_pas",
    "dmp_alimentation": "ne_sait_pas", "dui_consultation_dmp": "ne_sait_pas",
    "rpps_plus": "non", "ecps_psc": "non", "ror": "ne_sait_pas", "e_prescription": "ne_sait_pas",
    "e_parcours": "non", "telesante": ["aucune"], "dlu_urgences": "non",
    "admissions_viatrajectoire": "non", "echanges_partenaires": ["aucun"],
    "services_en_ligne_usagers": ["aucun"],
    "sdsi": "non", "referent_numerique": "aucun", "ressources_si": "aucune", "budget_si": "non",
    "procedures_si": ["aucune"], "indicateurs_usage": "non", "association_usagers": "non",
    "comptes_nominatifs": "non", "authentification_forte": "ne_sait_pas",
    "sauvegardes": "ne_sait_pas", "pca_pra": "non", "signalement_incidents": "non",
    "rgpd": ["aucun"], "mises_a_jour": "ne_sait_pas", "part_sensibilises_cyber": 0,
    "diagnostic_cyber": "non", "part_formes_dui": 0, "plan_formation_numerique": "non",
    "referents_metiers": "non", "accompagnement_usagers_numerique": "non",
}

UNKNOWN_ORDER = ["finess_propre", "hebergement_donnees", "dui_segur", "segur_vague2",
                 "insi_appel", "mssante", "dmp_alimentation", "dui_consultation_dmp", "ror",
                 "e_prescription", "authentification_forte", "sauvegardes", "mises_a_jour"]

TO_VERIFY = {"sauvegardes-regulieres", "dui-version-segur", "hebergement-donnees-conforme",
             "ins-qualifiee", "mssante-utilisee", "dmp-alimente", "ror-a-jour",
             "authentification-forte", "sauvegardes-testees", "coordination-ou-telesante"}


def test_all_unknown_assessment_is_complete_eligible_to_nothing_and_to_verify(q: Any) -> None:
    r = result_of(q, ALL_UNKNOWN_EHPAD)
    assert r["complete"] is True
    assert r["missing_required"] == []
    assert r["unknown"] == UNKNOWN_ORDER
    assert r["tier"]["id"] == "palier-0"
    # Every funding entry is left at "not eligible" (funding) or never eligible (resource).
    assert not [f["id"] for f in r["funding"] if f["eligible"]]
    by_id = {f["id"]: f for f in r["funding"]}
    assert by_id["esms-numerique"]["eligible"] is False
    assert by_id["esms-numerique"]["conditions"] == {
        "finess_propre": "ne_sait_pas", "regroupement": "non", "dui_production": "tous",
        "dui_segur": "ne_sait_pas"}
    assert by_id["segur-vague-2-ms"]["eligible"] is False
    # Only dui-en-production is met (a DUI in production for everyone).
    expected_steps = [rid for tier in ("palier-1", "palier-2", "palier-3", "palier-4")
                      for rid in TIER_REQUIREMENTS[tier]
                      if rid not in {"dui-en-production", "dui-acces-nomade"}]
    assert [s["requirement"] for s in r["next_steps"]] == expected_steps
    assert {s["requirement"] for s in r["next_steps"] if s["to_verify"]} == TO_VERIFY
    # An unknown answer never meets a requirement.
    reqs = requirements(r)
    for rid in TO_VERIFY:
        assert reqs[rid]["met"] is False


def test_unknown_answers_score_nothing(q: Any) -> None:
    known_no = ALL_UNKNOWN_EHPAD | {"sauvegardes": "aucune", "mises_a_jour": "non",
                                    "authentification_forte": "non"}
    a = result_of(q, ALL_UNKNOWN_EHPAD)
    b = result_of(q, known_no)
    sa = {d["id"]: d for d in a["domains"]}
    sb = {d["id"]: d for d in b["domains"]}
    assert sa["securite"]["earned"] == sb["securite"]["earned"] == 0
    assert sa["securite"]["max"] == sb["securite"]["max"]


# ---- funding -----------------------------------------------------------------------------


def test_funding_entries_carry_their_kind(q: Any) -> None:
    r = result_of(q, best("ehpad"))
    assert {f["id"]: f["kind"] for f in r["funding"]} == FUNDING_KINDS
    by_id = {f["id"]: f["eligible"] for f in r["funding"]}
    assert by_id["esms-numerique"] is True  # own FINESS, grappe, Ségur-referenced DUI
    assert by_id["segur-vague-2-ms"] is True  # DUI in production, vague-2 version installed


def test_esms_numerique_first_case_a_structure_without_dui(q: Any) -> None:
    no_dui = ALL_UNKNOWN_EHPAD | {"finess_propre": "oui", "regroupement": "oui",
                                  "dui_production": "non"}
    r = result_of(q, no_dui)
    assert r["complete"] is True
    assert {f["id"]: f["eligible"] for f in r["funding"]}["esms-numerique"] is True
    not_referenced = no_dui | {"dui_production": "partiel", "dui_segur": "non"}
    r = result_of(q, not_referenced)
    assert {f["id"]: f["eligible"] for f in r["funding"]}["esms-numerique"] is False


def test_ended_programme_is_never_promised_to_deploy_a_dui(q: Any) -> None:
    r = result_of(q, best("ehpad") | {"dui_production": "non"})
    step = next(s for s in r["next_steps"] if s["requirement"] == "dui-en-production")
    assert "esms-numerique" not in step["funding"]


def test_no_eligibility_on_an_incomplete_assessment(q: Any) -> None:
    answers = best("ehpad")
    del answers["wifi"]
    r = result_of(q, answers)
    assert r["complete"] is False
    assert r["missing_required"] == ["wifi"]
    assert [f["eligible"] for f in r["funding"]] == [None] * len(FUNDING_KINDS)


def test_a_resource_is_never_reported_eligible(q: Any) -> None:
    sets = [best(p) for p in PROFILES] + [ALL_UNKNOWN_EHPAD]
    rng = random.Random(20261202)
    sets += [generate_answers(q, rng, skip=0.0) for _ in range(150)]
    sets += [generate_answers(q, rng) for _ in range(50)]
    for answers in sets:
        for f in result_of(q, answers)["funding"]:
            assert f["kind"] == FUNDING_KINDS[f["id"]]
            if f["kind"] == "resource":
                assert f["eligible"] is None, f["id"]


# ---- content checks on the YAML files (any engine) ---------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _questions(doc: Any) -> dict[str, dict[str, Any]]:
    return {qq["id"]: qq for s in doc["sections"] for qq in s["questions"]}


def test_catalogue_holds_every_funding_id_of_both_versions() -> None:
    cat = _yaml(CATALOGUE)["programmes"]
    ids = [p["id"] for p in cat]
    assert len(ids) == len(set(ids))
    used = {f["id"] for path in (PATH, PATH_2026_1) for f in _yaml(path)["funding"]}
    assert used == {"esms-numerique", "segur-vague-2-ms", "care-cybersecurite", "rpps-plus",
                    "appui-regional", "cert-sante"}
    assert used <= set(ids)
    statuses = {p["id"]: p["status"] for p in cat}
    assert statuses["esms-numerique"] == "ended"
    assert statuses["segur-vague-2-ms"] == "announced"
    for p in cat:
        assert p["status"] in {"open", "closed", "ended", "announced"}
        assert isinstance(p["as_of"], datetime.date)
        assert p["summary"].strip()
        assert p["sources"], p["id"]
        for src in p["sources"]:
            assert src["url"].startswith("https://") and src["title"].strip()
        if "window" in p:
            assert p["window"]["from"] < p["window"]["until"]


def test_every_funding_entry_has_sources_and_kind() -> None:
    for f in _yaml(PATH)["funding"]:
        assert f["kind"] == FUNDING_KINDS[f["id"]]
        assert f["sources"], f["id"]
        if f["kind"] == "funding":
            assert "eligible_if" in f


def test_unknown_options_are_plain_and_single() -> None:
    for qq in _questions(_yaml(PATH)).values():
        unknown = [o for o in qq.get("options") or [] if o.get("unknown")]
        assert len(unknown) <= 1, qq["id"]
        for o in unknown:
            assert qq["type"] == "single_choice"
            assert "points" not in o
            assert o["value"] == "ne_sait_pas"
    qs = _questions(_yaml(PATH))
    # ror separates "non" from "je ne sais pas".
    assert [o["value"] for o in qs["ror"]["options"]] == ["non", "ancienne", "a_jour",
                                                         "ne_sait_pas"]


def test_questions_starting_with_le_dui_need_a_dui() -> None:
    for qq in _questions(_yaml(PATH)).values():
        if qq["label"].startswith("Le DUI"):
            assert qq["show_if"] == {"question": "dui_production", "in": ["partiel", "tous"]}


def test_every_requirement_says_whom_it_applies_to() -> None:
    for t in _yaml(PATH)["tiers"]:
        for r in t["requires"]:
            whom, sep, _ = r["label"].partition(" : ")
            assert sep, r["id"]
            assert whom.startswith(("Toutes les structures", "Structures")), r["id"]


def test_migration_map_covers_2026_1() -> None:
    old = _questions(_yaml(PATH_2026_1))
    new = _questions(_yaml(PATH))
    m = _yaml(MIGRATION)
    assert m["from"] == {"id": "esms-maturite-numerique", "version": "2026.1"}
    assert m["to"] == {"id": "esms-maturite-numerique", "version": "2026.2"}
    assert set(m["questions"]) == set(old)
    targets = set()
    for qid, rule in m["questions"].items():
        assert rule["action"] in {"kept", "renamed", "removed"}
        target = rule.get("to", qid) if rule["action"] != "removed" else None
        if target is None:
            continue
        assert target in new, qid
        targets.add(target)
        old_values = {o["value"] for o in old[qid].get("options") or []}
        new_values = {o["value"] for o in new[target].get("options") or []}
        for v, w in (rule.get("values") or {}).items():
            assert v in old_values, (qid, v)
            assert w is None or w in new_values, (qid, w)
        if rule["action"] == "kept" and "values" not in rule:
            assert old_values <= new_values, qid  # every old value still exists
    assert set(m["added"]) == set(new) - targets
    assert not set(m["added"]) & set(old)


# ---- carrying a 2026.1 draft over with the migration map ---------------------------------


def _migrate(answers: dict[str, Any], m: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The map's documented semantics, read naively: (carried answers, questions to ask)."""
    out: dict[str, Any] = {}
    ask = list(m["added"])
    for qid, value in answers.items():
        rule = m["questions"][qid]
        if rule["action"] == "removed":
            continue
        target = rule.get("to", qid)
        values = rule.get("values") or {}
        if isinstance(value, list):
            kept = [values.get(v, v) for v in value]
            new = [v for v in kept if v is not None]
        else:
            new = values.get(value, value) if isinstance(value, str) else value
        if new is None or new == []:
            ask.append(target)
        else:
            out[target] = new
    return out, ask


def test_small_ehpad_example_carries_over_to_2026_2(q: Any) -> None:
    example = _yaml(Path(__file__).resolve().parents[2] / "docs" / "examples"
                    / "reponses-petit-ehpad.yaml")
    carried, ask = _migrate(example, _yaml(MIGRATION))
    assert sorted(ask) == ["categorie", "dui_consultation_dmp", "medicalisation", "segur_vague2"]
    assert "medicalise" not in carried
    assert carried["messagerie_nominative"] == "partielle"  # 2026.1 "tous" = those who exchange
    assert carried["ror"] == "ancienne" and carried["dui_segur"] == "oui"
    answers = carried | {"categorie": "ehpad", "medicalisation": "equipe_medicale",
                         "segur_vague2": "ne_sait_pas", "dui_consultation_dmp": "non"}
    r = result_of(q, answers)
    assert r["complete"] is True
    assert r["unknown"] == ["segur_vague2"]
    assert r["tier"]["id"] == "palier-2"
    assert [s["requirement"] for s in r["next_steps"]] == [
        "ins-qualifiee", "identitovigilance-formalisee", "mssante-utilisee", "dmp-alimente",
        "rpps-plus-engage", "ror-a-jour", "circuit-medicament-informatise",
        "sdsi-formalise", "ressources-si-mutualisees", "indicateurs-usage-suivis",
        "authentification-forte", "sauvegardes-testees", "pcra-exerce",
        "procedures-formalisees", "plan-formation-annuel", "referent-temps-dedie"]
    assert not any(s["to_verify"] for s in r["next_steps"])
    assert {f["id"]: f["eligible"] for f in r["funding"]} == {
        "esms-numerique": True, "segur-vague-2-ms": False, "care-cybersecurite": None,
        "rpps-plus": None, "appui-regional": None, "cert-sante": None}


def test_small_ehpad_2026_2_example_file(q: Any) -> None:
    example = _yaml(Path(__file__).resolve().parents[2] / "docs" / "examples"
                    / "reponses-petit-ehpad-2026.2.yaml")
    r = result_of(q, example)
    assert r["complete"] is True
    assert r["unknown"] == ["segur_vague2"]
    assert r["tier"]["id"] == "palier-2"
    assert r["next_steps"][0]["requirement"] == "ins-qualifiee"
