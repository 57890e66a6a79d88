"""The result as every reader sees it (issue 9, sections 2 and 4): the palier, then what
separates the structure from the next palier, the paliers above already met, the "je ne sais
pas" answers, then scores, next steps, funding and resources, the ARS review and the detail.

Results are scored on the revision-2 fixture tests/fixtures/questionnaires/rev2-1.yaml (one
domain d, max 6 points) with its catalogue tests/fixtures/questionnaires/programmes.yaml; the
expected texts are written by hand from those two files. Template context first, then HTML.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import User
from app.assessments import result_parts
from app.assessments.models import AssessmentStatus
from app.assessments.pdf import STATIC, _url_fetcher
from app.config import Settings
from app.dashboard.read_model import refresh_structures
from app.formatting import PARIS
from app.permissions import Role
from app.questionnaires import Registry
from app.structures.models import Structure
from scoring import score
from tests.auth_helpers import log_in
from tests.factories import make_assessment, make_structure, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# Palier 2's own requirements met (medic, ins), palier 1's DUI missing: placed on P0.
BLOCKED = {"type_structure": "ehpad", "dui": "non", "ins": "oui", "medic": "oui", "usage": 80}
# A SSIAD that does not know: the medication circuit does not apply to it.
UNSURE_SSIAD = {"type_structure": "ssiad", "dui": "nsp", "ins": "nsp", "usage": 20}


@pytest.fixture
def registry() -> Registry:
    return Registry.load(FIXTURES / "questionnaires")


@pytest.fixture
def client(app_client: TestClient, registry: Registry) -> TestClient:
    app_client.app.state.registry = registry  # type: ignore[attr-defined]
    return app_client


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name="EHPAD Les Tilleuls", department="69")


@pytest.fixture
def director(session: Session, ehpad: Structure) -> User:
    return make_user(session, Role.director, [ehpad])


def stored(session: Session, registry: Registry, structure: Structure, answers: dict[str, Any],
           status: AssessmentStatus = AssessmentStatus.submitted) -> int:
    q = registry.get("rev2", "1")
    assert q is not None
    result = score(q, answers).to_dict()
    tier = result["tier"]
    a = make_assessment(session, structure, status, answers=answers, questionnaire_id="rev2",
                        questionnaire_version="1",
                        result=result if status == AssessmentStatus.submitted else None,
                        tier_id=tier["id"], tier_level=tier["level"],
                        global_score=result["global_score"])
    assert a.id is not None
    return a.id


def page(client: TestClient, session: Session, settings: Settings, user: User,
         url: str) -> Any:
    log_in(client, session, settings, user)
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 200, response.text
    return response


def in_order(text: str, *parts: str) -> None:
    at = [text.index(p) for p in parts]
    assert at == sorted(at), list(zip(parts, at, strict=True))


# ---- the director's result page ---------------------------------------------------------


def test_director_reads_the_gap_first_then_scores_steps_funding_review(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure, director: User) -> None:
    aid = stored(session, registry, ehpad, BLOCKED)
    response = page(client, session, settings, director, f"/evaluations/{aid}/resultat")
    rv = response.context["rv"]
    assert rv.neutral is False
    assert rv.gap == {
        "next_tier": {"id": "p1", "level": 1, "label": "P1"},
        "requirements": [{"id": "r-dui", "label": "DUI", "decisive": ["« DUI ? Non »"],
                          "scores": [], "to_meet": "« DUI ? Oui »", "to_verify": False}],
        "above": [{"id": "p2", "level": 2, "label": "P2", "points": 1,
                   "text": "Un seul point vous sépare du palier 2 : ses exigences propres "
                           "sont déjà remplies."}],
        "headline": "Un seul point vous sépare du palier 1.",
        "top": False,
    }
    assert [(t["id"], t["status"]) for t in rv.trace] == [
        ("p0", "atteint"), ("p1", "non atteint"),
        ("p2", "exigences propres remplies — bloqué par le palier 1"), ("p3", "non atteint")]
    assert [(f["id"], f["kind_label"], f["status_label"], f["as_of_fr"], f["eligibility"],
             f["reasons"]) for f in rv.funding] == [
        ("prog2", "Financement", "Terminé", "30 novembre 2026", "Non éligible en l’état",
         ["« INS ? Oui »"]),
        ("kit", "Ressource", "Ouvert", "30 novembre 2026", "Ressource mobilisable", []),
    ]
    assert rv.funding[0]["sources"] == [{"url": "https://example.org/prog2", "title": "Prog 2"}]
    assert rv.unknown == []

    text = response.text
    in_order(text, "<h2 id=\"palier\">Votre palier</h2>", ">P0<",
             "Ce qui vous sépare du palier 1", "Un seul point vous sépare du palier 1.",
             "« DUI ? Non »", "Pour la remplir : « DUI ? Oui »",
             "Un seul point vous sépare du palier 2 : ses exigences propres sont déjà remplies.",
             'id="scores"', 'id="prochaines-etapes"', 'id="financements"', "Revue par l’ARS",
             'id="detail-paliers"')
    assert "P2 : exigences propres remplies — bloqué par le palier 1" in text
    assert "P2 : atteint" not in text
    assert "Aucune exigence n’est remplie" not in text
    assert "Terminé au 30 novembre 2026" in text and "Ouvert au 30 novembre 2026" in text
    assert "Réponses lues : « INS ? Oui »" in text
    assert 'href="https://example.org/prog2"' in text and 'href="https://example.org/kit"' in text
    assert "Ressource mobilisable" in text
    assert "Réponses « je ne sais pas »" not in text


def test_unknown_answers_and_requirements_that_do_not_apply(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure, director: User) -> None:
    aid = stored(session, registry, ehpad, UNSURE_SSIAD)
    response = page(client, session, settings, director, f"/evaluations/{aid}/resultat")
    rv = response.context["rv"]
    assert rv.unknown == ["« DUI ? Je ne sais pas »", "« INS ? Je ne sais pas »"]
    assert rv.gap["requirements"][0]["to_verify"] is True
    p2 = next(t for t in rv.trace if t["id"] == "p2")
    assert [(r["id"], r["applies"], r["met"]) for r in p2["requirements"]] == [
        ("r-medic", False, None), ("r-ins", True, False)]
    assert (p2["n_met"], p2["n_applicable"]) == (0, 1)
    steps = [(s["requirement"], s["to_verify"]) for g in rv.steps_by_tier for s in g["steps"]]
    assert steps == [("r-dui", True), ("r-ins", True), ("r-usage", True), ("r-score", False)]
    assert [(f["id"], f["status_label"], f["eligibility"], f["reasons"]) for f in rv.funding] == [
        ("prog2", "Terminé", "Non éligible en l’état", ["« INS ? Je ne sais pas »"]),
        ("prog3", "Annoncé", "Éligible d’après les réponses", ["« DUI ? Je ne sais pas »"]),
    ]

    text = response.text
    assert "Réponses « je ne sais pas »" in text
    assert "<li>« DUI ? Je ne sais pas »</li>" in text
    assert "Non applicable à cette structure" in text
    assert "0 exigence remplie sur 1 applicable à cette structure." in text
    assert text.count("À vérifier auprès de votre éditeur ou prestataire") == 3
    # The medication circuit is never listed as unmet, nor as a next step.
    assert "Informatiser le circuit" not in text
    in_order(text, "Ce qui vous sépare du palier 1", "À vérifier", 'id="scores"')


def test_incomplete_draft_never_says_eligible(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure, director: User) -> None:
    aid = stored(session, registry, ehpad, {"type_structure": "ehpad"},
                 status=AssessmentStatus.draft)
    response = page(client, session, settings, director, f"/evaluations/{aid}/resultat")
    rv = response.context["rv"]
    assert [(f["id"], f["eligibility"], f["eligible"]) for f in rv.funding] == [
        ("prog2", "Éligibilité non évaluée : évaluation incomplète", None),
        ("kit", "Ressource mobilisable", None),
    ]
    assert rv.gap["requirements"][0]["decisive"] == ["« DUI ? sans réponse »"]
    assert "Éligible d’après" not in response.text
    assert "Éligibilité non évaluée : évaluation incomplète" in response.text


# ---- ARS and committee readers: neutral wording --------------------------------------------


@pytest.mark.parametrize("role", [Role.ars, Role.committee, Role.admin])
def test_other_readers_read_of_the_structure(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure, role: Role) -> None:
    aid = stored(session, registry, ehpad, BLOCKED)
    reader = make_user(session, role, region="84" if role != Role.admin else None)
    response = page(client, session, settings, reader, f"/evaluations/{aid}/resultat")
    assert response.context["rv"].neutral is True
    text = response.text
    assert "Palier de la structure" in text and "Votre palier" not in text
    assert "Ce qui sépare la structure du palier 1" in text
    assert "Un seul point sépare la structure du palier 2" in text
    assert "vous sépare" not in text
    in_order(text, "Palier de la structure", "Ce qui sépare la structure du palier 1",
             'id="scores"', 'id="financements"', "Revue par l’ARS")


# ---- results stored before revision 2 ------------------------------------------------------


def test_a_2026_1_result_without_revision_2_keys_is_shown(
        app_client: TestClient, session: Session, settings: Settings, ehpad: Structure,
        director: User) -> None:
    """A 2026.1 submission stored before revision 2: no gap, kind, conditions, applies."""
    old = {
        "questionnaire": {"id": "esms-maturite-numerique", "version": "2026.1"},
        "complete": True, "missing_required": [], "global_score": 40.0, "domains": [],
        "tier": {"id": "palier-1", "level": 1, "label": "Palier 1 — Socle"},
        "tiers": [{"id": "palier-1", "level": 1, "label": "Palier 1 — Socle", "met": True,
                   "requirements": [{"id": "x", "label": "Exigence X", "met": True,
                                     "answers": {}}]}],
        "next_steps": [{"requirement": "y", "tier": "palier-2", "label": "Exigence Y",
                        "title": "Faire Y", "detail": "", "effort": "moyen", "funding": []}],
        "funding": [{"id": "esms-numerique", "eligible": True},
                    {"id": "care-cybersecurite", "eligible": True}],
        "answered": 10, "applicable": 10,
    }
    a = make_assessment(session, ehpad, AssessmentStatus.submitted, answers={}, result=old,
                        tier_id="palier-1", tier_level=1, global_score=40.0)
    response = page(app_client, session, settings, director, f"/evaluations/{a.id}/resultat")
    rv = response.context["rv"]
    assert rv.gap is None and rv.unknown == []
    assert [(f["kind_label"], f["status_label"], f["as_of_fr"], f["eligibility"], f["reasons"])
            for f in rv.funding] == [
        ("Financement", "Terminé", "2 décembre 2026",
         "Conditions remplies d’après les réponses, mais le programme est terminé", []),
        # 2026.1 called CaRE a funding and stored "eligible"; 2026.2 knows it is a resource
        # for an ESMS: shown as such, never "éligible".
        ("Ressource", "Ouvert", "2 décembre 2026", "Ressource mobilisable", [])]
    assert a.result["funding"][1]["eligible"] is True  # the stored result is unchanged
    assert "Palier 1 — Socle : atteint" in response.text
    assert "Terminé au 2 décembre 2026" in response.text
    assert "Ce qui vous sépare" not in response.text


# ---- print view and PDF ------------------------------------------------------------------


def pdf_text(html: str) -> list[str]:
    """The text of each page of the document WeasyPrint lays out from `html`."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(STATIC) + "/",
                    url_fetcher=_url_fetcher()).render()

    def walk(box: Any) -> list[str]:
        out = [box.text] if hasattr(box, "text") else []
        for child in getattr(box, "children", []):
            out += walk(child)
        return out

    return [" ".join(walk(p._page_box)) for p in document.pages]


def test_print_view_and_pdf_put_the_gap_first(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure, director: User) -> None:
    aid = stored(session, registry, ehpad, UNSURE_SSIAD)
    response = page(client, session, settings, director, f"/evaluations/{aid}/impression")
    assert response.context["rv"].neutral is True  # one document for every reader
    text = response.text
    in_order(text, "Ce qui sépare la structure du palier 1",
             "Un seul point sépare la structure du palier 1.", "(à vérifier)",
             "Réponses « je ne sais pas »", 'id="p-scores"', 'id="p-etapes"',
             'id="p-financements"', 'id="p-trace"', 'id="p-reponses"')
    assert "Non applicable à cette structure</strong> — Circuit du médicament" in text
    assert "Financement · Annoncé au 30 novembre 2026 · Éligible d’après les réponses" in text
    assert "https://example.org/prog3" in text

    pdf = client.get(f"/evaluations/{aid}/declaration.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pages = pdf_text(text)
    first = " ".join(pages[0].split())
    in_order(first, "Palier", "P0", "Ce qui sépare la structure du palier 1",
             "Un seul point sépare la structure du palier 1.", "DUI", "Scores par domaine")
    everything = " ".join(" ".join(pages).split())
    assert "À vérifier auprès de votre éditeur ou prestataire" in everything
    assert "Annoncé au 30 novembre 2026" in everything


# ---- admin: the programme catalogue --------------------------------------------------------


def test_stale_is_more_than_six_months() -> None:
    assert not result_parts.stale(date(2026, 6, 2), date(2026, 12, 2))
    assert result_parts.stale(date(2026, 6, 1), date(2026, 12, 2))
    assert not result_parts.stale(date(2026, 11, 30), date(2026, 12, 2))
    assert result_parts.stale(date(2025, 1, 15), date(2026, 12, 2))


def test_admin_programmes_page_flags_stale_entries(
        app_client: TestClient, session: Session, settings: Settings, tmp_path: Path) -> None:
    fresh = (datetime.now(PARIS).date() - timedelta(days=30)).isoformat()
    source = (FIXTURES / "catalogue" / "programmes.yaml").read_text(encoding="utf-8")
    (tmp_path / "programmes.yaml").write_text(source.replace("FRESH", fresh), encoding="utf-8")
    registry = Registry.load(tmp_path)
    assert registry.catalogue is not None
    app_client.app.state.registry = registry  # type: ignore[attr-defined]
    admin = make_user(session, Role.admin)
    response = page(app_client, session, settings, admin, "/admin/programmes")
    rows = response.context["rows"]
    assert [(r["id"], r["status_label"], r["stale"]) for r in rows] == [
        ("vieux", "Terminé", True), ("frais", "Annoncé", False)]
    assert rows[0]["window"] == {"from": "1er janvier 2021", "until": "31 décembre 2025"}
    assert response.context["stale"] == 1
    text = response.text
    assert "1 programme à revérifier" in text
    assert text.count("À revérifier : plus de six mois") == 1
    in_order(text, "15 janvier 2025", "À revérifier : plus de six mois",
             "Programme vérifié récemment")
    assert 'href="https://example.org/vieux"' in text
    assert "Un programme annoncé, vérifié il y a un mois." in text
    assert '<a class="fr-nav__link" href="/admin/programmes"' in text or \
        'href="/admin/programmes"' in text


def test_admin_programmes_lists_the_real_catalogue(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_user(session, Role.admin)
    response = page(app_client, session, settings, admin, "/admin/programmes")
    ids = [r["id"] for r in response.context["rows"]]
    assert ids[:3] == ["esms-numerique", "segur-vague-2-ms", "care-cybersecurite"]


# ---- the ARS comparison page ---------------------------------------------------------------


def test_comparison_says_not_applicable_never_unmet(
        client: TestClient, session: Session, settings: Settings, registry: Registry,
        ehpad: Structure) -> None:
    other = make_structure(session, name="SSIAD du Val", department="69")
    stored(session, registry, ehpad, BLOCKED)
    stored(session, registry, other, UNSURE_SSIAD)
    refresh_structures(session, [ehpad.id, other.id])
    session.commit()
    ars = make_user(session, Role.ars, region="84")
    response = page(client, session, settings, ars,
                    f"/regions/84/comparer?finess={ehpad.finess}&finess={other.finess}")
    cols = {c.structure.name: c for c in response.context["cmp"].columns}
    assert cols["SSIAD du Val"].requirements["p2/r-medic"]["applies"] is False
    assert cols["EHPAD Les Tilleuls"].requirements["p2/r-medic"]["applies"] is True
    assert response.text.count("Non applicable à cette structure") == 1
