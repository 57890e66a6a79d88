"""Before starting (issue 10): the estimated time, the glossary of acronyms linked from the
questions that use them, the printable blank questionnaire (HTML and PDF), the evidence link
inside its question. Expected values written by hand from
questionnaires/esms-maturite-numerique-2026.2.yaml: 66 questions (47 single choice, 10
numbers, 7 multiple choice, 2 texts), of which 46 are asked to every structure (35, 5, 5, 1).
At 25 s a single choice, 45 s a multiple choice, 60 s a number or a text:
everyone's = 875 + 300 + 225 + 60 = 1460 s -> 25 min (rounded up to 5 minutes);
all = 1175 + 600 + 315 + 120 = 2210 s -> 40 min."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.assessments.glossary import TERMS, acronyms_in
from app.assessments.guide import estimate
from app.structures.models import Structure
from scoring import load_questionnaire
from tests.director_client import Director, start

QUESTIONNAIRE = (Path(__file__).resolve().parents[2] / "questionnaires"
                 / "esms-maturite-numerique-2026.2.yaml")
ESTIMATE = "entre 25 et 40 minutes selon votre structure"


def test_estimate_by_hand() -> None:
    e = estimate(load_questionnaire(QUESTIONNAIRE))
    assert (e.low, e.high) == (25, 40)
    assert e.text == ESTIMATE


def test_acronyms_are_found_as_words() -> None:
    found = acronyms_in("Le DUI interroge-t-il le téléservice INSi pour l’INS ? e-CPS, "
                        "MSSanté, DUI, les PARS")
    assert [t.acronym for t in found] == ["DUI", "INSi", "INS", "CPS", "MSSanté"]
    assert len(TERMS) >= 45


def test_glossary_page_is_public(app_client: TestClient) -> None:
    page = app_client.get("/glossaire")
    assert page.status_code == 200
    assert '<dt id="sigle-dui" tabindex="-1"><abbr title="Dossier usager informatisé">DUI' \
        in page.text
    assert "GRADeS</abbr> : Groupement régional d’appui au développement de la e-santé" \
        in page.text
    assert len(re.findall(r"<dt ", page.text)) == len(TERMS)


def test_every_definition_shows_its_source(app_client: TestClient) -> None:
    """Each term carries the public page its facts were checked against (issue 10: facts
    come with a source), shown with the consultation date."""
    assert len(TERMS) == 59
    assert [t.acronym for t in TERMS if not (t.source or "").startswith(("https://",
                                                                        "http://"))] == []
    page = app_client.get("/glossaire").text
    assert page.count("consultée le 2 décembre 2026</span>") == 59
    caarud = page.split('id="sigle-caarud"', 1)[1].split("</dd>", 1)[0]
    assert ('Source : <a href="https://www.ofdt.fr/glossaire/centre-d-accueil-et-'
            'd-accompagnement-la-reduction-des-risques-pour-usagers-de-drogues"') in caarud
    assert ">www.ofdt.fr</a>, consultée le 2 décembre 2026" in caarud
    thd = page.split('id="sigle-thd"', 1)[1].split("</dd>", 1)[0]
    assert "Connexion internet d’au moins 30 Mbit/s en réception" in thd


def test_questions_link_to_their_acronyms(
        director: Director, ehpad: Structure, session: Session) -> None:
    aid = start(director, ehpad)
    page = director.get(f"/evaluations/{aid}/sections/s-dui")
    assert page.status_code == 200
    box = page.text.split('id="question-dui_production"')[1].split('id="question-')[0]
    assert '<a href="/glossaire#sigle-dui"' in box
    assert "Sigle :" in box  # « dossier usager informatisé (DUI) » : one acronym


def test_structure_page_says_how_long_and_links_the_aids(
        director: Director, ehpad: Structure) -> None:
    page = director.get(f"/structures/{ehpad.finess}")
    assert f"Temps estimé : {ESTIMATE}." in page.text
    assert '<a href="/questionnaire-vierge">Questionnaire vierge à imprimer</a>' in page.text
    assert '<a href="/glossaire">Glossaire des sigles</a>' in page.text


def test_blank_questionnaire_html_and_pdf(app_client: TestClient) -> None:
    page = app_client.get("/questionnaire-vierge")
    assert page.status_code == 200
    assert f"Temps estimé pour le remplir en ligne : {ESTIMATE}." in page.text
    assert ("<strong>3.1. La structure utilise-t-elle un dossier usager informatisé (DUI) en "
            "production ?</strong> (obligatoire)") in page.text
    assert "☐</span> Oui, pour toutes les personnes accompagnées" in page.text
    assert "Sigle" in page.text and "DUI (Dossier usager informatisé)" in page.text
    pdf = app_client.get("/questionnaire-vierge.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert 'filename="questionnaire-vierge-2026.2.pdf"' in pdf.headers["content-disposition"]
