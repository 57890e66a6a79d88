"""The real questionnaire `esms-maturite-numerique` 2026.1, through the engine's public API.

Every expected value here (tiers, next steps, maxima, eligibility) is worked out by hand from
the YAML file, not computed by the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scoring import Questionnaire, applicable, load_questionnaire, score, validate_answers

PATH = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"
)

DOMAINS = {
    "equipement": "Équipements et infrastructures",
    "dui": "Dossier usager informatisé",
    "services_socles": "Identité et services socles",
    "coordination": "Coordination et parcours",
    "gouvernance": "Gouvernance et pilotage du SI",
    "securite": "Sécurité et protection des données",
    "competences": "Compétences et usages",
}

PROFILE_QUESTIONS = [
    "public_accueilli", "modalite", "medicalise", "capacite", "effectif_etp",
    "gestionnaire_multi", "finess_propre", "regroupement",
]

# Questions neither scored nor read by any condition: profile or free-text questions whose
# help says they are not scored.
UNSCORED_INFORMATIVE = {"capacite", "effectif_etp", "gestionnaire_multi", "dui_logiciel",
                        "commentaires"}

TIER_REQUIREMENTS = {
    "palier-0": [],
    "palier-1": ["internet-suffisant", "postes-terrain", "messagerie-nominative",
                 "comptes-nominatifs", "sauvegardes-regulieres", "referent-numerique-designe"],
    "palier-2": ["dui-en-production", "dui-blocs-socles", "dui-usage-quotidien",
                 "dui-version-segur"],
    "palier-3": ["ins-qualifiee", "identitovigilance-formalisee", "mssante-integree",
                 "dmp-alimente", "rpps-plus-engage", "ror-a-jour",
                 "circuit-medicament-informatise", "dui-actifs-cible"],
    "palier-4": ["sdsi-formalise", "ressources-si-mutualisees", "indicateurs-usage-suivis",
                 "authentification-forte", "sauvegardes-testees", "pcra-exerce",
                 "incidents-signales", "coordination-ou-telesante", "procedures-formalisees",
                 "plan-formation-annuel", "referent-temps-dedie"],
}

# ---- hand-written answer sets ------------------------------------------------------------

# Best answers to every question that does not depend on the profile.
COMMON_BEST: dict[str, Any] = {
    "capacite": 60,
    "effectif_etp": 45,
    "gestionnaire_multi": "oui",
    "finess_propre": "oui",
    "regroupement": "oui",
    "acces_internet": "fibre_secours",
    "wifi": "complet",
    "part_professionnels_equipes": 90,
    "parc_maintenu": "oui",
    "messagerie_nominative": "tous",
    "hebergement_donnees": "hds",
    "dui_production": "tous",
    "dui_logiciel": "Logiciel DUI de l'éditeur retenu par la grappe",
    "dui_segur": "oui",
    "dui_fonctions": ["gestion_administrative", "admission", "projet_personnalise", "soins",
                      "accompagnement", "coordination", "relation_usager"],
    "part_pros_dui_quotidien": 90,
    "part_dui_actifs": 95,
    "insi_appel": "oui",
    "part_identites_qualifiees": 92,
    "identitovigilance": "formalise",
    "mssante": "integree",
    "mssante_messages_mois": 150,
    "dmp_alimentation": "systematique",
    "dmp_documents": ["dlu", "projet_personnalise", "vsm", "plan_soins", "lettre_liaison"],
    "rpps_plus": "oui",
    "ecps_psc": "generalise",
    "ror": "a_jour",
    "e_parcours": "regulier",
    "telesante": ["teleconsultation", "teleexpertise", "telesoin", "telesurveillance"],
    "echanges_partenaires": ["messagerie_securisee", "agenda_partage", "dossier_partage",
                             "visio_securisee"],
    "services_en_ligne_usagers": ["information", "demarches", "portail_familles",
                                  "rendez_vous"],
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
    "satisfaction_outils": 4,
    "accompagnement_usagers_numerique": "organise",
    "commentaires": "Projet porté par la grappe départementale.",
}

# Profile answers plus the best answers to the questions this profile is shown.
PROFILES: dict[str, dict[str, Any]] = {
    "ehpad": {"public_accueilli": "personnes_agees", "modalite": "hebergement",
              "medicalise": "oui", "terminaux_mobiles": "tous", "circuit_medicament": "complet",
              "e_prescription": "oui", "dlu_urgences": "numerique",
              "admissions_viatrajectoire": "oui"},
    "saad": {"public_accueilli": "domicile", "modalite": "domicile", "medicalise": "non",
             "terminaux_mobiles": "tous", "acces_nomade_dui": "saisie"},
    "ssiad": {"public_accueilli": "domicile", "modalite": "domicile", "medicalise": "oui",
              "terminaux_mobiles": "tous", "acces_nomade_dui": "saisie",
              "circuit_medicament": "complet", "e_prescription": "oui"},
    "foyer_de_vie": {"public_accueilli": "adultes_handicapes", "modalite": "hebergement",
                     "medicalise": "non", "terminaux_mobiles": "tous",
                     "orientation_handicap": "oui"},
    "ime": {"public_accueilli": "enfants_handicapes", "modalite": "accueil_jour",
            "medicalise": "oui", "circuit_medicament": "complet", "e_prescription": "oui",
            "orientation_handicap": "oui"},
    "csapa": {"public_accueilli": "addictologie", "modalite": "accueil_jour",
              "medicalise": "non"},
    "mecs": {"public_accueilli": "protection_enfance", "modalite": "hebergement",
             "medicalise": "non", "terminaux_mobiles": "tous"},
    "chrs": {"public_accueilli": "inclusion_sociale", "modalite": "mixte", "medicalise": "non",
             "terminaux_mobiles": "tous", "acces_nomade_dui": "saisie"},
}

# (a) A home-help service with nothing in place.
SAAD_NON_EQUIPE: dict[str, Any] = {
    "public_accueilli": "domicile",
    "modalite": "domicile",
    "medicalise": "non",
    "capacite": 40,
    "effectif_etp": 25,
    "gestionnaire_multi": "non",
    "finess_propre": "oui",
    "regroupement": "non",
    "acces_internet": "aucune",
    "wifi": "aucun",
    "part_professionnels_equipes": 10,
    "terminaux_mobiles": "non",
    "parc_maintenu": "non",
    "messagerie_nominative": "non",
    "hebergement_donnees": "local_sans_sauvegarde",
    "dui_production": "non",
    "insi_appel": "non",
    "identitovigilance": "non",
    "mssante": "non",
    "dmp_alimentation": "non",
    "rpps_plus": "non",
    "ecps_psc": "non",
    "ror": "non",
    "e_parcours": "non",
    "telesante": ["aucune"],
    "echanges_partenaires": ["aucun"],
    "services_en_ligne_usagers": ["aucun"],
    "sdsi": "non",
    "referent_numerique": "aucun",
    "ressources_si": "aucune",
    "budget_si": "non",
    "procedures_si": ["aucune"],
    "indicateurs_usage": "non",
    "association_usagers": "non",
    "comptes_nominatifs": "non",
    "authentification_forte": "non",
    "sauvegardes": "aucune",
    "pca_pra": "non",
    "signalement_incidents": "non",
    "rgpd": ["aucun"],
    "mises_a_jour": "non",
    "part_sensibilises_cyber": 0,
    "diagnostic_cyber": "non",
    "plan_formation_numerique": "non",
    "referents_metiers": "non",
    "satisfaction_outils": 2,
    "accompagnement_usagers_numerique": "non",
}

# (b) A small EHPAD with a DUI in production but no INSi, MSSanté or DMP.
PETIT_EHPAD: dict[str, Any] = {
    "public_accueilli": "personnes_agees",
    "modalite": "hebergement",
    "medicalise": "oui",
    "capacite": 30,
    "effectif_etp": 22,
    "gestionnaire_multi": "non",
    "finess_propre": "oui",
    "regroupement": "oui",
    "acces_internet": "fibre_thd",
    "wifi": "partiel",
    "part_professionnels_equipes": 60,
    "terminaux_mobiles": "quelques_uns",
    "parc_maintenu": "partiel",
    "messagerie_nominative": "tous",
    "hebergement_donnees": "hds",
    "dui_production": "tous",
    "dui_logiciel": "Logiciel X de l'éditeur Y",
    "dui_segur": "oui",
    "dui_fonctions": ["gestion_administrative", "admission", "projet_personnalise", "soins"],
    "part_pros_dui_quotidien": 70,
    "part_dui_actifs": 85,
    "circuit_medicament": "partiel",
    "insi_appel": "non",
    "identitovigilance": "partiel",
    "mssante": "non",
    "dmp_alimentation": "non",
    "rpps_plus": "non",
    "ecps_psc": "non",
    "ror": "ancienne",
    "e_prescription": "non",
    "e_parcours": "non",
    "telesante": ["teleconsultation"],
    "dlu_urgences": "papier",
    "admissions_viatrajectoire": "oui",
    "echanges_partenaires": ["agenda_partage"],
    "services_en_ligne_usagers": ["information"],
    "sdsi": "non",
    "referent_numerique": "designe",
    "ressources_si": "prestataire",
    "budget_si": "ponctuel",
    "procedures_si": ["arrivees_departs"],
    "indicateurs_usage": "non",
    "association_usagers": "parfois",
    "comptes_nominatifs": "partiel",
    "authentification_forte": "non",
    "sauvegardes": "non_testees",
    "pca_pra": "non",
    "signalement_incidents": "connue",
    "rgpd": ["dpo", "registre"],
    "mises_a_jour": "partiel",
    "part_sensibilises_cyber": 20,
    "diagnostic_cyber": "non",
    "part_formes_dui": 60,
    "plan_formation_numerique": "ponctuel",
    "referents_metiers": "quelques_uns",
    "satisfaction_outils": 3,
    "accompagnement_usagers_numerique": "ponctuel",
}

# (d) A non-medicalised home-help service answering at best; its DUI covers accompaniment
# but not the care block, which a non-medicalised structure does not need.
SAAD_EXEMPLAIRE: dict[str, Any] = {
    "public_accueilli": "domicile",
    "modalite": "domicile",
    "medicalise": "non",
    "capacite": 120,
    "effectif_etp": 70,
    "gestionnaire_multi": "oui",
    "finess_propre": "oui",
    "regroupement": "oui",
    "acces_internet": "fibre_secours",
    "wifi": "complet",
    "part_professionnels_equipes": 100,
    "terminaux_mobiles": "tous",
    "parc_maintenu": "oui",
    "messagerie_nominative": "tous",
    "hebergement_donnees": "hds",
    "dui_production": "tous",
    "dui_segur": "oui",
    "dui_fonctions": ["gestion_administrative", "admission", "projet_personnalise",
                      "accompagnement", "coordination", "relation_usager"],
    "part_pros_dui_quotidien": 95,
    "part_dui_actifs": 100,
    "acces_nomade_dui": "saisie",
    "insi_appel": "oui",
    "part_identites_qualifiees": 90,
    "identitovigilance": "formalise",
    "mssante": "integree",
    "mssante_messages_mois": 40,
    "dmp_alimentation": "systematique",
    "dmp_documents": ["projet_personnalise"],
    "rpps_plus": "oui",
    "ecps_psc": "generalise",
    "ror": "a_jour",
    "e_parcours": "regulier",
    "telesante": ["aucune"],
    "echanges_partenaires": ["messagerie_securisee", "agenda_partage"],
    "services_en_ligne_usagers": ["information", "portail_familles"],
    "sdsi": "formalise",
    "referent_numerique": "temps_dedie",
    "ressources_si": "mutualisees",
    "budget_si": "annuel",
    "procedures_si": ["arrivees_departs", "gestion_acces", "incidents"],
    "indicateurs_usage": "oui",
    "association_usagers": "systematique",
    "comptes_nominatifs": "oui",
    "authentification_forte": "oui",
    "sauvegardes": "testees_hors_ligne",
    "pca_pra": "exerce",
    "signalement_incidents": "pratiquee",
    "rgpd": ["dpo", "registre", "information_usagers"],
    "mises_a_jour": "oui",
    "part_sensibilises_cyber": 100,
    "diagnostic_cyber": "realise",
    "part_formes_dui": 100,
    "plan_formation_numerique": "annuel",
    "referents_metiers": "chaque_equipe",
    "satisfaction_outils": 5,
    "accompagnement_usagers_numerique": "organise",
}


# ---- helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire(PATH)


def best(profile: str, **overrides: Any) -> dict[str, Any]:
    return {**COMMON_BEST, **PROFILES[profile], **overrides}


def scored(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    assert validate_answers(q, answers) == []
    return score(q, answers).to_dict()


def step_ids(result: dict[str, Any]) -> list[str]:
    return [s["requirement"] for s in result["next_steps"]]


def eligibility(result: dict[str, Any]) -> dict[str, bool]:
    return {f["id"]: f["eligible"] for f in result["funding"]}


def domain(result: dict[str, Any], did: str) -> dict[str, Any]:
    return next(d for d in result["domains"] if d["id"] == did)


def referenced_questions(node: Any) -> set[str]:
    """Question ids read by a raw condition (show_if, requirement or eligibility)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("question"), str):
            found.add(node["question"])
        for value in node.values():
            found |= referenced_questions(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced_questions(item)
    return found


# ---- structure ---------------------------------------------------------------------------


def test_loads_with_expected_identity(q: Questionnaire) -> None:
    assert q.id == "esms-maturite-numerique"
    assert q.version == "2026.1"
    assert {d.id: d.label for d in q.domains} == DOMAINS
    assert all(d.weight == 1 for d in q.domains)
    assert len(q.questions) >= 45
    assert len(q.questions) == 63


def test_profile_section_first_and_unscored(q: Questionnaire) -> None:
    first = q.sections[0]
    assert first.title == "Profil de la structure"
    assert [qu.id for qu in first.questions] == PROFILE_QUESTIONS
    for qu in first.questions:
        assert qu.required, qu.id
        assert not any(o.points for o in qu.options or []), qu.id
        assert not qu.bands, qu.id
        assert "profil" in (qu.help or "").lower(), qu.id
        assert "non notée" in (qu.help or ""), qu.id


def test_every_question_has_help_and_ascii_ids(q: Questionnaire) -> None:
    for qu in q.questions.values():
        assert qu.help and len(qu.help) > 40, qu.id
        assert qu.id.isascii() and qu.id == qu.id.lower() and "-" not in qu.id, qu.id
        for opt in qu.options or []:
            assert opt.value.isascii() and opt.value == opt.value.lower(), (qu.id, opt.value)
            assert "-" not in opt.value and " " not in opt.value, (qu.id, opt.value)


def test_questions_per_domain(q: Questionnaire) -> None:
    per_domain: dict[str, set[str]] = {d: set() for d in DOMAINS}
    for qu in q.questions.values():
        for opt in qu.options or []:
            for d in opt.points:
                per_domain[d].add(qu.id)
        for band in qu.bands or []:
            for d in band.points:
                per_domain[d].add(qu.id)
    assert {d: len(ids) for d, ids in per_domain.items()} == {
        "equipement": 7, "dui": 7, "services_socles": 11, "coordination": 7,
        "gouvernance": 7, "securite": 9, "competences": 5,
    }


def test_no_filler(q: Questionnaire) -> None:
    referenced: set[str] = set()
    for qu in q.questions.values():
        referenced |= referenced_questions(qu.show_if)
    for tier in q.tiers:
        for req in tier.requires:
            referenced |= referenced_questions(req.condition)
    for fund in q.funding:
        referenced |= referenced_questions(fund.eligible_if)
    points = {
        qu.id for qu in q.questions.values()
        if any(o.points for o in qu.options or []) or any(b.points for b in qu.bands or [])
    }
    idle = set(q.questions) - points - referenced
    assert idle == UNSCORED_INFORMATIVE
    for qid in UNSCORED_INFORMATIVE:
        assert "non notée" in (q.questions[qid].help or ""), qid


def test_show_if_reads_only_earlier_questions(q: Questionnaire) -> None:
    order = list(q.questions)
    for i, qu in enumerate(q.questions.values()):
        for ref in referenced_questions(qu.show_if):
            assert order.index(ref) < i, (qu.id, ref)


def test_show_if_targets(q: Questionnaire) -> None:
    assert q.questions["circuit_medicament"].show_if == {"question": "medicalise", "equals": "oui"}
    assert referenced_questions(q.questions["acces_nomade_dui"].show_if) == {
        "modalite", "dui_production"}
    assert referenced_questions(q.questions["dlu_urgences"].show_if) == {
        "public_accueilli", "modalite"}
    assert q.questions["orientation_handicap"].show_if == {
        "question": "public_accueilli", "in": ["enfants_handicapes", "adultes_handicapes"]}


def test_main_questions_are_required(q: Questionnaire) -> None:
    scored_questions = [
        qu for qu in q.questions.values()
        if any(o.points for o in qu.options or []) or any(b.points for b in qu.bands or [])
    ]
    required = [qu for qu in scored_questions if qu.required]
    assert len(required) >= 0.9 * len(scored_questions)


def test_tiers_and_requirements(q: Questionnaire) -> None:
    assert [(t.id, t.level) for t in q.tiers] == [
        ("palier-0", 0), ("palier-1", 1), ("palier-2", 2), ("palier-3", 3), ("palier-4", 4)]
    assert {t.id: [r.id for r in t.requires] for t in q.tiers} == TIER_REQUIREMENTS
    for tier in q.tiers:
        for req in tier.requires:
            step = req.next_step
            assert req.label and step.title, req.id
            assert step.detail and len(step.detail) > 60, req.id
            assert step.effort in ("faible", "moyen", "eleve"), req.id


def test_funding_programmes(q: Questionnaire) -> None:
    assert [f.id for f in q.funding] == ["esms-numerique", "segur-vague-2-ms",
                                         "care-cybersecurite"]
    for fund in q.funding:
        assert fund.label and fund.description
        assert fund.url is None or fund.url.startswith("https://")
    assert referenced_questions(q.funding[0].eligible_if) == {
        "finess_propre", "regroupement", "dui_segur"}


# ---- domains have a positive maximum for every profile ----------------------------------


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_domain_scorable_at_best(q: Questionnaire, profile: str) -> None:
    result = scored(q, best(profile))
    assert result["complete"] is True
    assert result["missing_required"] == []
    for d in result["domains"]:
        assert d["max"] > 0, (profile, d["id"])
        assert d["score"] == 100.0, (profile, d["id"])
    assert result["global_score"] == 100.0


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize(("overrides", "level"), [
    ({}, 4),
    ({"sdsi": "non"}, 3),
    ({"ror": "non"}, 2),
    ({"part_pros_dui_quotidien": 10}, 1),
    ({"acces_internet": "aucune"}, 0),
])
def test_every_palier_reachable(
    q: Questionnaire, profile: str, overrides: dict[str, Any], level: int
) -> None:
    result = scored(q, best(profile, **overrides))
    assert result["tier"]["id"] == f"palier-{level}"
    assert result["tier"]["level"] == level


# ---- (a) a home-help service with nothing in place --------------------------------------


def test_non_equipped_home_help_service_on_palier_0(q: Questionnaire) -> None:
    result = scored(q, SAAD_NON_EQUIPE)
    assert result["complete"] is True
    assert result["tier"] == {"id": "palier-0", "level": 0,
                              "label": "Palier 0 — Pré-requis non réunis"}
    assert [t["met"] for t in result["tiers"]] == [True, False, False, False, False]
    assert step_ids(result) == [
        "internet-suffisant", "postes-terrain", "messagerie-nominative", "comptes-nominatifs",
        "sauvegardes-regulieres", "referent-numerique-designe",
        "dui-en-production", "dui-blocs-socles", "dui-usage-quotidien", "dui-version-segur",
        # circuit-medicament-informatise is met: the service is not medicalised
        "ins-qualifiee", "identitovigilance-formalisee", "mssante-integree", "dmp-alimente",
        "rpps-plus-engage", "ror-a-jour", "dui-actifs-cible",
        "sdsi-formalise", "ressources-si-mutualisees", "indicateurs-usage-suivis",
        "authentification-forte", "sauvegardes-testees", "pcra-exerce", "incidents-signales",
        "coordination-ou-telesante", "procedures-formalisees", "plan-formation-annuel",
        "referent-temps-dedie",
    ]
    first = result["next_steps"][0]
    assert first["tier"] == "palier-1"
    assert first["title"] == "Obtenir une connexion internet suffisante"
    assert first["effort"] == "moyen"
    assert result["next_steps"][6]["funding"] == ["esms-numerique"]
    assert eligibility(result) == {"esms-numerique": False, "segur-vague-2-ms": False,
                                   "care-cybersecurite": False}
    # Maxima over the questions a DUI-less home service is shown.
    assert {d["id"]: d["max"] for d in result["domains"]} == {
        "equipement": 17, "dui": 3, "services_socles": 14, "coordination": 14,
        "gouvernance": 16, "securite": 20, "competences": 8,
    }
    assert all(d["earned"] == 0 for d in result["domains"])
    assert result["global_score"] == 0.0


def test_hidden_questions_for_home_help_service(q: Questionnaire) -> None:
    shown = applicable(q, SAAD_NON_EQUIPE)
    for qid in ("circuit_medicament", "e_prescription", "dlu_urgences",
                "admissions_viatrajectoire", "orientation_handicap", "dui_fonctions",
                "dui_segur", "acces_nomade_dui", "part_formes_dui"):
        assert shown[qid] is False, qid
    assert shown["terminaux_mobiles"] is True
    with_dui = applicable(q, {**SAAD_NON_EQUIPE, "dui_production": "tous"})
    assert with_dui["acces_nomade_dui"] is True
    assert with_dui["circuit_medicament"] is False


# ---- (b) a small EHPAD with a DUI but no national services ------------------------------


def test_small_ehpad_with_dui_on_palier_2(q: Questionnaire) -> None:
    result = scored(q, PETIT_EHPAD)
    assert result["complete"] is True
    assert result["tier"]["id"] == "palier-2"
    assert [t["met"] for t in result["tiers"]] == [True, True, True, False, False]
    assert step_ids(result) == [
        "ins-qualifiee", "identitovigilance-formalisee", "mssante-integree", "dmp-alimente",
        "rpps-plus-engage", "ror-a-jour", "circuit-medicament-informatise",
        "sdsi-formalise", "ressources-si-mutualisees", "indicateurs-usage-suivis",
        "authentification-forte", "sauvegardes-testees", "pcra-exerce", "incidents-signales",
        "procedures-formalisees", "plan-formation-annuel", "referent-temps-dedie",
    ]
    assert all(s["tier"] == "palier-3" for s in result["next_steps"][:7])
    assert result["next_steps"][0]["funding"] == ["esms-numerique", "segur-vague-2-ms"]
    p3 = result["tiers"][3]["requirements"]
    assert p3[0]["answers"] == {"insi_appel": "non", "part_identites_qualifiees": None}
    assert p3[7] == {"id": "dui-actifs-cible",
                     "label": "DUI actif pour au moins 80 % des personnes accompagnées",
                     "met": True, "applies": True, "answers": {"part_dui_actifs": 85}}
    # dui: 3 (tous) + 2 (Ségur) + 4 blocks + 2 (70 %) + 2 (85 %) + 1 (partial medication)
    # out of 3 + 2 + 7 + 3 + 2 + 3; the nomadic access question is not shown.
    dui = domain(result, "dui")
    assert (dui["earned"], dui["max"], dui["score"]) == (14, 20, 70.0)
    assert eligibility(result) == {"esms-numerique": True, "segur-vague-2-ms": True,
                                   "care-cybersecurite": True}


def test_small_ehpad_outside_a_grouping_is_not_eligible(q: Questionnaire) -> None:
    result = scored(q, {**PETIT_EHPAD, "regroupement": "en_cours"})
    assert eligibility(result)["esms-numerique"] is False
    result = scored(q, {**PETIT_EHPAD, "finess_propre": "non"})
    assert eligibility(result)["esms-numerique"] is False
    result = scored(q, {**PETIT_EHPAD, "dui_segur": "montee_prevue"})
    assert eligibility(result)["esms-numerique"] is True


def test_structure_choosing_a_segur_dui_is_eligible(q: Questionnaire) -> None:
    answers = {**SAAD_NON_EQUIPE, "regroupement": "oui", "dui_production": "projet",
               "dui_segur": "oui"}
    result = scored(q, answers)
    assert result["tier"]["id"] == "palier-0"
    assert eligibility(result) == {"esms-numerique": True, "segur-vague-2-ms": False,
                                   "care-cybersecurite": False}


# ---- (c) a structure meeting everything -------------------------------------------------


def test_exemplary_ehpad_on_palier_4(q: Questionnaire) -> None:
    result = scored(q, best("ehpad"))
    assert result["tier"] == {"id": "palier-4", "level": 4,
                              "label": "Palier 4 — Pilotage, coordination et sécurité"}
    assert all(t["met"] for t in result["tiers"])
    assert result["next_steps"] == []
    assert eligibility(result) == {"esms-numerique": True, "segur-vague-2-ms": True,
                                   "care-cybersecurite": True}
    assert domain(result, "dui")["max"] == 20


# ---- (d) a non-medicalised service ------------------------------------------------------


def test_non_medicalised_home_service_reaches_palier_4(q: Questionnaire) -> None:
    shown = applicable(q, SAAD_EXEMPLAIRE)
    assert shown["circuit_medicament"] is False
    assert shown["e_prescription"] is False
    assert shown["acces_nomade_dui"] is True
    result = scored(q, SAAD_EXEMPLAIRE)
    assert result["complete"] is True
    assert result["tier"]["id"] == "palier-4"
    assert result["next_steps"] == []
    p3 = {r["id"]: r for r in result["tiers"][3]["requirements"]}
    assert p3["circuit-medicament-informatise"]["met"] is True
    assert p3["circuit-medicament-informatise"]["answers"] == {
        "medicalise": "non", "circuit_medicament": None}
    # dui: 3 + 2 + 6 blocks (no care block) + 3 + 2 + 2 (nomadic) out of 3 + 2 + 7 + 3 + 2 + 2
    dui = domain(result, "dui")
    assert (dui["earned"], dui["max"]) == (18, 19)
    assert dui["score"] == pytest.approx(100 * 18 / 19)
    assert eligibility(result)["esms-numerique"] is True


def test_non_medicalised_handicap_service_reaches_palier_4(q: Questionnaire) -> None:
    answers = best("foyer_de_vie", dui_fonctions=[
        "gestion_administrative", "admission", "projet_personnalise", "accompagnement"])
    shown = applicable(q, answers)
    assert shown["orientation_handicap"] is True
    assert shown["circuit_medicament"] is False
    assert shown["dlu_urgences"] is False
    result = scored(q, answers)
    assert result["tier"]["id"] == "palier-4"
    assert result["next_steps"] == []


def test_care_block_required_when_medicalised(q: Questionnaire) -> None:
    without_care = ["gestion_administrative", "admission", "projet_personnalise",
                    "accompagnement", "coordination", "relation_usager"]
    result = scored(q, best("ehpad", dui_fonctions=without_care))
    assert result["tier"]["id"] == "palier-1"
    assert step_ids(result) == ["dui-blocs-socles"]
    neither = ["gestion_administrative", "admission", "projet_personnalise", "coordination"]
    result = scored(q, best("saad", dui_fonctions=neither))
    assert result["tier"]["id"] == "palier-1"
    assert step_ids(result) == ["dui-blocs-socles"]


def test_medicalised_service_needs_complete_medication_circuit(q: Questionnaire) -> None:
    result = scored(q, best("ssiad", circuit_medicament="partiel"))
    assert result["tier"]["id"] == "palier-2"
    assert step_ids(result) == ["circuit-medicament-informatise"]


# ---- (e) placement is cumulative --------------------------------------------------------


def test_missing_palier_2_requirement_caps_at_palier_1(q: Questionnaire) -> None:
    result = scored(q, best("ehpad", part_pros_dui_quotidien=40))
    assert result["tier"]["id"] == "palier-1"
    assert [t["met"] for t in result["tiers"]] == [True, True, False, True, True]
    assert step_ids(result) == ["dui-usage-quotidien"]
    assert result["next_steps"][0]["tier"] == "palier-2"
    assert result["next_steps"][0]["title"] == "Faire du DUI l'outil quotidien des équipes"
    # Eligibility does not depend on the tier.
    assert eligibility(result)["esms-numerique"] is True


def test_usage_thresholds_boundaries(q: Questionnaire) -> None:
    at_80 = scored(q, best("ehpad", part_identites_qualifiees=80))
    assert at_80["tier"]["id"] == "palier-4"
    below = scored(q, best("ehpad", part_identites_qualifiees=79.5))
    assert below["tier"]["id"] == "palier-2"
    assert step_ids(below) == ["ins-qualifiee"]
    at_50 = scored(q, best("ehpad", part_pros_dui_quotidien=50))
    assert at_50["tier"]["id"] == "palier-4"
