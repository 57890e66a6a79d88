"""The permission matrix: every route of the app × eight actors → the expected status.

The table (MATRIX) is written by hand from the issues' rules, never derived from
app/permissions.py:
- anonymous: pages 303 to /connexion, API and htmx requests 401;
- a record outside the actor's scope: 404 (an ARS of another region never sees region 84's
  data, through any page, partial, export or API);
- in scope but not the actor's to do (a committee reviewing, an ARS filling in a draft, a
  director on a regional page): 403;
- allowed: 200, or for state-changing routes the status of a body chosen so that the
  permission is what is tested (303 after a valid form, 201 created, 204 revoked, 422 for
  a submission of a draft left incomplete on purpose).

The world (one per module and database backend, real commits on a fresh database):
    structure A  EHPAD, Rhône (69, region 84): a submitted assessment, and a draft (left
                 incomplete) with evidence; director_a
    structure A2 EHPAD, Ain (01, region 84): a submitted assessment (comparisons)
    structure B  EHPAD, Paris (75, region 11): a submitted assessment; director_b
    structure C  Rhône, no director: the admin's corrections
    ars_a (84), ars_other (11), committee_84, committee_national, admin;
    a review of A's submission, a shortlist of region 84 and a national one, ars_a's
    finished region export, ars_a's import job of region 84.
State-changing cases are repeatable (or get fresh objects from World.fresh): the order of the
cases does not matter.

Each case is one test, `GET /regions/84[ars_other]`. Pages use a session (`log_in`) and
send the CSRF token on POST, so a 403 means permission, not CSRF; /api/ routes use a
Bearer token. The last tests fail when a route of the app is missing from the matrix, or
when the matrix names a route that no longer exists.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts import auth
from app.accounts.models import User
from app.assessments import service as svc
from app.assessments.models import Assessment
from app.config import Settings, get_settings
from app.db import get_engine
from app.questionnaires import Registry
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD
from tests.auth_helpers import bearer, csrf_token, log_in
from tests.conftest import _clear_caches, temporary_database
from tests.factories import finess_for, make_structure, make_user
from tests.fixtures.finess import et_line
from tests.routes import Key, route_keys

ACTORS = ("anonymous", "director_a", "director_b", "ars_a", "ars_other", "committee_84",
          "committee_national", "admin")

QID = "esms-maturite-numerique"
QVERSION = "2026.2"
MISSING = "effectif_etp"  # a required answer removed from A's draft: its submission is 422


# ---- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route's path template, as the app declares it
    url: str  # the URL requested: {placeholders} filled from the world (World.values)
    expect: tuple[int, int, int, int, int, int, int, int]  # in ACTORS order
    data: dict[str, str] | None = None  # form fields
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    htmx: bool = False  # an htmx partial request (HX-Request: true)
    public: bool = False  # a 303 for anonymous is not the login redirect
    fresh: str | None = None  # World.fresh(<name>, actor): objects a case may consume
    new_client: bool = False  # a client of its own (the case ends its session)

    @property
    def key(self) -> Key:
        return (self.method, self.route)

    def case_id(self, actor: str) -> str:
        return f"{self.method} {self.url}{' (htmx)' if self.htmx else ''}[{actor}]"


def R(method: str, route: str, url: str | None, expect: tuple[int, ...], **kw: Any) -> Row:
    assert len(expect) == len(ACTORS)
    return Row(method, route, url or route, expect, **kw)  # type: ignore[arg-type]


def P(method: str, route: str, url: str | None, expect: tuple[int, ...], **kw: Any) -> Row:
    return R(method, route, url, expect, public=True, **kw)


CSV_SKIPPED = ("finess;etalab;100;2026-11-01\n"
               + et_line("690000039", "690000047", "Centre hospitalier", "101", "69")
               + "\n").encode("utf-8")

EVIDENCE_NOTE = {"question_id": "terminaux_mobiles", "note": "Inventaire du parc, mars."}
SECTION = "s-equipement"
AUTOSAVE = {"question": "acces_internet", "version": "{a_draft_version}",
            "q_acces_internet": "fibre_thd"}
# "{...}" alone in a JSON body stands for an integer (the API's `version` is a strict int).
ANSWERS_PATCH = {"version": "{a_draft_version}", "answers": {"acces_internet": "fibre_thd"}}
SHORTLIST_FORM = {"nom": "Sélection {actor}", "region": "84", "taille_liste": "5",
                  "classement": "global"}
SHORTLIST_JSON = {"name": "API {actor}", "region": "84", "size": 5}
NEW_USER = {"email": "nouveau.{actor}@example.fr", "name": "Nouveau compte",
            "role": "director", "region": "", "structures": "",
            "password": "un-mot-de-passe-assez-long-2026"}
CORRECTION = {"category_code": "500", "capacity": "80", "department": "69"}
# 69987654 + Luhn key: 6 + (9·2→9) + 9 + (8·2→7) + 7 + (6·2→3) + 5 + (4·2=8) = 54 → key 6
NEW_STRUCTURE = {"finess": "69 987 654 6", "name": "EHPAD ajouté", "category_code": "500",
                 "department": "69", "city": "Lyon", "capacity": "40"}
NEW_PAT = {"name": "Jeton {actor}", "scope": "read", "days": "30"}
IMPORT_FILE = {"file": ("finess.csv", CSV_SKIPPED, "text/csv")}

# Columns:                  anon  dir_a dir_b ars_a ars_o c_84  c_nat admin
ALL_200 = (200,) * 8
LOGGED_200 = (303, 200, 200, 200, 200, 200, 200, 200)
LOGGED_200_API = (401, 200, 200, 200, 200, 200, 200, 200)
VIEW_A = (303, 200, 404, 200, 404, 200, 200, 200)  # a page of structure A's
VIEW_A_HTMX = (401, 200, 404, 200, 404, 200, 200, 200)
VIEW_A_API = (401, 200, 404, 200, 404, 200, 200, 200)
VIEW_B = (303, 404, 200, 404, 200, 404, 200, 200)  # the same pages of structure B's (region 11)
VIEW_B_API = (401, 404, 200, 404, 200, 404, 200, 200)
REDIRECT_A = (303, 303, 404, 303, 404, 303, 303, 303)  # a page of A's that redirects
# A's draft is its director's working space: ARS referents and committees see that it exists
# and its progress (A's page), never its answers, evidence or notes (403); admins read it.
DRAFT_A = (303, 200, 404, 403, 404, 403, 403, 200)
DRAFT_A_HTMX = (401, 200, 404, 403, 404, 403, 403, 200)
DRAFT_A_API = (401, 200, 404, 403, 404, 403, 403, 200)
DRAFT_A_REDIRECT = (303, 303, 404, 403, 404, 403, 403, 303)
# a review page of a draft: the director and the admin are told it is not submitted (409)
DRAFT_A_REVIEW = (303, 409, 404, 403, 404, 403, 403, 409)
FILL_A = (303, 303, 404, 403, 404, 403, 403, 403)  # a director's change to A's draft
FILL_A_HTMX = (401, 200, 404, 403, 404, 403, 403, 403)
FILL_A_API = (401, 200, 404, 403, 404, 403, 403, 403)
SUBMIT_A = (303, 422, 404, 403, 404, 403, 403, 403)  # A's draft is incomplete: 422
SUBMIT_A_API = (401, 422, 404, 403, 404, 403, 403, 403)
REVIEW_A = (303, 403, 404, 303, 404, 403, 403, 303)  # ARS of the region, admin
MESSAGES_A = (303, 200, 404, 200, 404, 403, 403, 403)  # A's directors, ARS of 84
MESSAGES_A_API = (401, 200, 404, 200, 404, 403, 403, 403)
REVIEW_A_API = (401, 403, 404, 200, 404, 403, 403, 200)
ADMIN = (303, 403, 403, 403, 403, 403, 403, 200)
ADMIN_POST = (303, 403, 403, 403, 403, 403, 403, 303)
DIRECTORS = (303, 200, 200, 403, 403, 403, 403, 403)
REGION_84 = (303, 403, 403, 200, 404, 200, 200, 200)
REGION_84_HTMX = (401, 403, 403, 200, 404, 200, 200, 200)
REGION_84_API = (401, 403, 403, 200, 404, 200, 200, 200)
REGION_11 = (303, 403, 403, 404, 200, 404, 200, 200)
REGION_EXPORT_84 = (303, 403, 403, 200, 404, 403, 403, 200)  # ARS of the region, admin
BUILDERS = (303, 403, 403, 200, 200, 200, 200, 200)  # shortlists: ARS, committees, admin
BUILDERS_POST = (303, 403, 403, 303, 303, 303, 303, 303)
SHORTLIST_84 = (303, 403, 403, 200, 404, 200, 200, 200)
SHORTLIST_84_API = (401, 403, 403, 200, 404, 200, 200, 200)
SHORTLIST_NATIONAL = (303, 403, 403, 404, 404, 404, 200, 200)
SHORTLIST_NATIONAL_API = (401, 403, 403, 404, 404, 404, 200, 200)
JOB_OF_ARS_A = (303, 404, 404, 200, 404, 404, 404, 404)  # only its creator
JOB_OF_ARS_A_HTMX = (401, 404, 404, 200, 404, 404, 404, 404)
JOB_OF_ARS_A_API = (401, 404, 404, 200, 404, 404, 404, 404)
IMPORTERS = (303, 403, 403, 200, 200, 403, 403, 200)  # ARS (their region), admin
IMPORTERS_POST = (303, 403, 403, 303, 303, 403, 403, 303)
IMPORT_84 = (303, 403, 403, 200, 404, 403, 403, 200)
CAMPAIGN_84 = (303, 403, 403, 200, 404, 403, 403, 200)  # ARS of the region, admin
CAMPAIGN_84_POST = (303, 403, 403, 303, 404, 403, 403, 303)
INVITERS = (303, 403, 403, 200, 200, 403, 403, 200)  # ARS (their region), admin
INVITATION_OF_84 = (303, 403, 403, 303, 404, 403, 403, 303)

MATRIX: tuple[Row, ...] = (
    # ---- public pages and endpoints
    P("GET", "/", None, (200, 303, 303, 303, 303, 303, 303, 303)),  # logged in: to one's menu
    P("GET", "/healthz", None, ALL_200),
    P("GET", "/readyz", None, ALL_200),
    P("GET", "/accessibilite", None, ALL_200),
    P("GET", "/favicon.ico", None, ALL_200),
    P("GET", "/mentions-legales", None, ALL_200),
    P("GET", "/donnees-personnelles", None, ALL_200),
    P("GET", "/docs", None, ALL_200),
    P("GET", "/glossaire", None, ALL_200),
    P("GET", "/questionnaire-vierge", None, ALL_200),
    P("GET", "/questionnaire-vierge.pdf", None, ALL_200),
    P("GET", "/connexion", None, (200, 303, 303, 303, 303, 303, 303, 303)),
    P("POST", "/connexion", None, (400,) * 8, data={"email": "", "password": ""}),
    P("POST", "/deconnexion", None, (303,) * 8, new_client=True),
    # the second step of a login: without a login challenge, back to the password form
    P("GET", "/connexion/code", None, (303,) * 8),
    P("POST", "/connexion/code", None, (303,) * 8, data={"code": "123456"}),
    P("GET", "/connexion/activation", None, (303,) * 8),
    P("POST", "/connexion/activation", None, (303,) * 8, data={"code": "123456"}),
    P("GET", "/session/csrf", None, ALL_200),
    P("GET", "/mot-de-passe-oublie", None, ALL_200),
    P("POST", "/mot-de-passe-oublie", None, (303,) * 8,
      data={"email": "personne@example.fr"}),
    P("GET", "/reinitialiser/{token}", "/reinitialiser/jeton-inconnu", (400,) * 8),
    P("POST", "/reinitialiser/{token}", "/reinitialiser/jeton-inconnu", (400,) * 8,
      data={"password": "x" * 20, "password_confirm": "x" * 20}),
    # ProConnect: off in this world (no provider configured), links unknown
    P("POST", "/proconnect/connexion", None, (404,) * 8),
    P("GET", "/proconnect/retour", "/proconnect/retour?code=x&state=y", (404,) * 8),
    P("GET", "/proconnect/lier/{token}", "/proconnect/lier/jeton-inconnu", (400,) * 8),
    P("POST", "/proconnect/lier/{token}", "/proconnect/lier/jeton-inconnu", (400,) * 8),
    P("GET", "/proconnect/deconnecte", None, (303,) * 8),
    P("POST", "/api/v1/auth/token", None, ALL_200,
      data={"username": "api.client@example.fr", "password": "mot-de-passe-de-test"}),
    P("GET", "/api/v1/questionnaires", None, ALL_200),
    P("GET", "/api/v1/questionnaires/{qid}/{version}", f"/api/v1/questionnaires/{QID}/{QVERSION}",
      ALL_200),
    P("POST", "/api/v1/score", None, ALL_200,
      json={"questionnaire": QID, "version": QVERSION, "answers": PETIT_EHPAD}),
    # ---- the director's pages (structure A, its draft and its submission)
    R("GET", "/mes-structures", None, DIRECTORS),
    R("GET", "/structures/{finess}", "/structures/{a}", VIEW_A),
    R("GET", "/structures/{finess}", "/structures/{b}", VIEW_B),
    R("POST", "/structures/{finess}/evaluation", "/structures/{a}/evaluation", FILL_A),
    R("GET", "/evaluations/{assessment_id}", "/evaluations/{a_draft}", DRAFT_A_REDIRECT),
    R("GET", "/evaluations/{assessment_id}", "/evaluations/{a_sub}", REDIRECT_A),
    R("GET", "/evaluations/{assessment_id}/sections/{section_id}",
      f"/evaluations/{{a_draft}}/sections/{SECTION}", DRAFT_A),
    R("POST", "/evaluations/{assessment_id}/sections/{section_id}",
      f"/evaluations/{{a_draft}}/sections/{SECTION}", FILL_A,
      data={"version": "{a_draft_version}", "q_acces_internet": "fibre_thd", "q_wifi": "complet"}),
    R("POST", "/evaluations/{assessment_id}/reponses", "/evaluations/{a_draft}/reponses",
      FILL_A_HTMX, data=AUTOSAVE, htmx=True),
    R("GET", "/evaluations/{assessment_id}/questions/{question_id}",
      "/evaluations/{a_draft}/questions/acces_internet", DRAFT_A_HTMX, htmx=True),
    R("GET", "/evaluations/{assessment_id}/transmettre", "/evaluations/{a_draft}/transmettre",
      DRAFT_A),
    R("POST", "/evaluations/{assessment_id}/transmettre", "/evaluations/{a_draft}/transmettre",
      SUBMIT_A),
    R("GET", "/evaluations/{assessment_id}/resultat", "/evaluations/{a_sub}/resultat", VIEW_A),
    R("GET", "/evaluations/{assessment_id}/resultat", "/evaluations/{b_sub}/resultat", VIEW_B),
    R("GET", "/evaluations/{assessment_id}/resultat", "/evaluations/{a_draft}/resultat",
      DRAFT_A),
    R("GET", "/evaluations/{assessment_id}/impression", "/evaluations/{a_sub}/impression",
      VIEW_A),
    R("GET", "/evaluations/{assessment_id}/impression", "/evaluations/{a_draft}/impression",
      DRAFT_A),
    R("GET", "/evaluations/{assessment_id}/declaration.pdf",
      "/evaluations/{a_draft}/declaration.pdf", DRAFT_A),
    R("GET", "/evaluations/{assessment_id}/declaration.pdf",
      "/evaluations/{a_sub}/declaration.pdf", VIEW_A),
    R("GET", "/evaluations/{assessment_id}/simulation", "/evaluations/{a_sub}/simulation",
      VIEW_A),
    R("GET", "/evaluations/{assessment_id}/simulation", "/evaluations/{a_draft}/simulation",
      DRAFT_A),
    R("POST", "/evaluations/{assessment_id}/simulation", "/evaluations/{a_sub}/simulation",
      VIEW_A, data={"q_acces_internet": "fibre_thd"}),
    R("POST", "/evaluations/{assessment_id}/simulation", "/evaluations/{a_draft}/simulation",
      DRAFT_A_HTMX, data={"q_acces_internet": "fibre_thd"}, htmx=True),
    # ---- JSON API v1: structures and assessments
    R("GET", "/api/v1/me", None, LOGGED_200_API),
    R("DELETE", "/api/v1/auth/token", None, (401, 204, 204, 204, 204, 204, 204, 204),
      fresh="api_token"),
    R("GET", "/api/v1/structures", None, LOGGED_200_API),
    R("GET", "/api/v1/structures/{finess}", "/api/v1/structures/{a}", VIEW_A_API),
    R("GET", "/api/v1/structures/{finess}", "/api/v1/structures/{b}", VIEW_B_API),
    R("POST", "/api/v1/structures/{finess}/assessments", "/api/v1/structures/{a}/assessments",
      FILL_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}", "/api/v1/assessments/{a_sub}", VIEW_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}", "/api/v1/assessments/{a_draft}",
      DRAFT_A_API),
    R("PATCH", "/api/v1/assessments/{assessment_id}/answers",
      "/api/v1/assessments/{a_draft}/answers", FILL_A_API, json=ANSWERS_PATCH),
    R("POST", "/api/v1/assessments/{assessment_id}/submit",
      "/api/v1/assessments/{a_draft}/submit", SUBMIT_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}/result",
      "/api/v1/assessments/{a_sub}/result", VIEW_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}/result",
      "/api/v1/assessments/{b_sub}/result", VIEW_B_API),
    R("GET", "/api/v1/assessments/{assessment_id}/result",
      "/api/v1/assessments/{a_draft}/result", DRAFT_A_API),
    R("GET", "/api/v1/regions/{code}/summary", "/api/v1/regions/84/summary", REGION_84_API),
    R("GET", "/api/v1/regions/{code}/summary", "/api/v1/regions/11/summary",
      (401, 403, 403, 404, 200, 404, 200, 200)),
    # ---- review and evidence
    R("GET", "/evaluations/{assessment_id}/revue", "/evaluations/{a_sub}/revue", VIEW_A),
    R("GET", "/evaluations/{assessment_id}/revue", "/evaluations/{a_sub}/revue", VIEW_A_HTMX,
      htmx=True),
    R("POST", "/evaluations/{assessment_id}/revue", "/evaluations/{a_sub}/revue", REVIEW_A,
      data={"status": "validee", "comment": "Cohérent avec la visite."}),
    R("POST", "/api/v1/assessments/{assessment_id}/review",
      "/api/v1/assessments/{a_sub}/review", REVIEW_A_API,
      json={"status": "validee", "comment": "Cohérent avec la visite."}),
    R("POST", "/api/v1/assessments/{assessment_id}/review",
      "/api/v1/assessments/{b_sub}/review", (401, 404, 403, 404, 200, 404, 403, 200),
      json={"status": "validee", "comment": "Cohérent avec la visite."}),
    R("GET", "/api/v1/assessments/{assessment_id}/reviews",
      "/api/v1/assessments/{a_sub}/reviews", VIEW_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}/reviews",
      "/api/v1/assessments/{a_draft}/reviews", DRAFT_A_API),
    R("GET", "/evaluations/{assessment_id}/revue", "/evaluations/{a_draft}/revue",
      DRAFT_A_REVIEW),
    # ---- the message thread: A's directors and the ARS of region 84 only (issue 10)
    R("GET", "/evaluations/{assessment_id}/messages", "/evaluations/{a_sub}/messages",
      MESSAGES_A),
    R("POST", "/evaluations/{assessment_id}/messages", "/evaluations/{a_sub}/messages",
      (303, 303, 404, 303, 404, 403, 403, 403), data={"message": "Message de {actor}."}),
    R("GET", "/evaluations/{assessment_id}/messages", "/evaluations/{a_draft}/messages",
      (303, 409, 404, 403, 404, 403, 403, 403)),
    R("GET", "/api/v1/assessments/{assessment_id}/messages",
      "/api/v1/assessments/{a_sub}/messages", MESSAGES_A_API),
    R("GET", "/api/v1/assessments/{assessment_id}/messages",
      "/api/v1/assessments/{b_sub}/messages", (401, 404, 200, 404, 200, 404, 403, 403)),
    R("GET", "/api/v1/assessments/{assessment_id}/messages",
      "/api/v1/assessments/{a_draft}/messages", (401, 409, 404, 403, 404, 403, 403, 403)),
    R("POST", "/api/v1/assessments/{assessment_id}/messages",
      "/api/v1/assessments/{a_sub}/messages", (401, 201, 404, 201, 404, 403, 403, 403),
      json={"body": "Message de {actor}."}),
    R("GET", "/evaluations/{assessment_id}/preuves",
      "/evaluations/{a_draft}/preuves?question=wifi", DRAFT_A),
    R("POST", "/evaluations/{assessment_id}/preuves", "/evaluations/{a_draft}/preuves",
      FILL_A, data=EVIDENCE_NOTE),
    R("POST", "/preuves/{evidence_id}/supprimer", "/preuves/{evidence}/supprimer", FILL_A,
      fresh="evidence"),
    R("GET", "/preuves/{evidence_id}", "/preuves/{evidence_file}", DRAFT_A),
    # ---- regional pages (ARS; committees and admins read-only)
    R("GET", "/regions", None, (303, 403, 403, 303, 303, 303, 200, 200)),
    R("GET", "/regions/{code}", "/regions/84", REGION_84),
    R("GET", "/regions/{code}", "/regions/84", REGION_84_HTMX, htmx=True),
    R("GET", "/regions/{code}", "/regions/11", REGION_11),
    R("GET", "/regions/{code}/structures", "/regions/84/structures", REGION_84),
    R("GET", "/regions/{code}/structures", "/regions/84/structures?tri=palier", REGION_84_HTMX,
      htmx=True),
    R("GET", "/regions/{code}/comparer", "/regions/84/comparer?finess={a}&finess={a2}",
      REGION_84),
    R("GET", "/structures/{finess}/comparaison", "/structures/{a}/comparaison", VIEW_A),
    R("GET", "/structures/{finess}/comparaison", "/structures/{a}/comparaison", VIEW_A_HTMX,
      htmx=True),
    R("GET", "/structures/{finess}/comparaison", "/structures/{b}/comparaison", VIEW_B),
    # ---- shortlists and exports (committees, ARS, admin)
    R("GET", "/selections", None, BUILDERS),
    R("GET", "/selections/nouvelle", None, BUILDERS),
    R("GET", "/selections/nouvelle", "/selections/nouvelle?taille_liste=5&classement=global",
      (401, 403, 403, 200, 200, 200, 200, 200), htmx=True),
    R("POST", "/selections", None, BUILDERS_POST, data=SHORTLIST_FORM),
    R("GET", "/selections/{shortlist_id}", "/selections/{shortlist_84}", SHORTLIST_84),
    R("GET", "/selections/{shortlist_id}", "/selections/{shortlist_national}",
      SHORTLIST_NATIONAL),
    R("GET", "/selections/{shortlist_id}/comparaison", "/selections/{shortlist_84}/comparaison",
      SHORTLIST_84),
    R("GET", "/selections/{shortlist_id}/export.csv", "/selections/{shortlist_84}/export.csv",
      SHORTLIST_84),
    R("GET", "/selections/{shortlist_id}/export.xlsx", "/selections/{shortlist_84}/export.xlsx",
      SHORTLIST_84),
    R("GET", "/selections/{shortlist_id}/export.pdf", "/selections/{shortlist_84}/export.pdf",
      SHORTLIST_84),
    R("GET", "/regions/{code}/export.csv", "/regions/84/export.csv", REGION_EXPORT_84),
    R("GET", "/regions/{code}/export.xlsx", "/regions/84/export.xlsx", REGION_EXPORT_84),
    R("GET", "/regions/{code}/export.csv", "/regions/11/export.csv",
      (303, 403, 403, 404, 200, 403, 403, 200)),
    # the ARS list and dashboard figures with their filters (issue 10)
    R("GET", "/regions/{code}/structures.csv", "/regions/84/structures.csv?recherche=EHPAD",
      REGION_EXPORT_84),
    R("GET", "/regions/{code}/structures.xlsx", "/regions/84/structures.xlsx?departement=69",
      REGION_EXPORT_84),
    R("GET", "/regions/{code}/chiffres.csv", "/regions/84/chiffres.csv", REGION_EXPORT_84),
    R("GET", "/regions/{code}/chiffres.xlsx", "/regions/84/chiffres.xlsx", REGION_EXPORT_84),
    R("GET", "/regions/{code}/structures.csv", "/regions/11/structures.csv",
      (303, 403, 403, 404, 200, 403, 403, 200)),
    R("GET", "/exports", None, LOGGED_200),
    R("GET", "/exports/{job_id}", "/exports/{job_of_ars_a}", JOB_OF_ARS_A),
    R("GET", "/exports/{job_id}", "/exports/{job_of_ars_a}", JOB_OF_ARS_A_HTMX, htmx=True),
    R("GET", "/exports/{job_id}/fichier", "/exports/{job_of_ars_a}/fichier", JOB_OF_ARS_A),
    R("POST", "/api/v1/shortlists", None, (401, 403, 403, 201, 404, 201, 201, 201),
      json=SHORTLIST_JSON),
    R("GET", "/api/v1/shortlists/{shortlist_id}", "/api/v1/shortlists/{shortlist_84}",
      SHORTLIST_84_API),
    R("GET", "/api/v1/shortlists/{shortlist_id}", "/api/v1/shortlists/{shortlist_national}",
      SHORTLIST_NATIONAL_API),
    R("GET", "/api/v1/shortlists/{shortlist_id}/export.csv",
      "/api/v1/shortlists/{shortlist_84}/export.csv", SHORTLIST_84_API),
    R("GET", "/api/v1/shortlists/{shortlist_id}/export.xlsx",
      "/api/v1/shortlists/{shortlist_84}/export.xlsx", SHORTLIST_84_API),
    R("GET", "/api/v1/shortlists/{shortlist_id}/export.pdf",
      "/api/v1/shortlists/{shortlist_84}/export.pdf", SHORTLIST_84_API),
    R("GET", "/api/v1/exports/{job_id}", "/api/v1/exports/{job_of_ars_a}", JOB_OF_ARS_A_API),
    R("GET", "/api/v1/exports/{job_id}/file", "/api/v1/exports/{job_of_ars_a}/file",
      JOB_OF_ARS_A_API),
    # ---- ARS campaigns of region 84 (issue 10): its ARS and admins
    R("GET", "/regions/{code}/campagnes", "/regions/84/campagnes", CAMPAIGN_84),
    R("POST", "/regions/{code}/campagnes", "/regions/84/campagnes", CAMPAIGN_84_POST,
      data={"nom": "Campagne de {actor}", "debut": "2026-01-01", "echeance": "2027-12-31",
            "categories": "500"}),
    R("GET", "/campagnes/{campaign_id}", "/campagnes/{campaign_84}", CAMPAIGN_84),
    R("GET", "/campagnes/{campaign_id}/relances", "/campagnes/{campaign_84}/relances",
      CAMPAIGN_84),
    R("POST", "/campagnes/{campaign_id}/relances", "/campagnes/{campaign_84}/relances",
      CAMPAIGN_84_POST),
    # ---- structures directory: FINESS import (ARS for their region, admin), corrections
    R("GET", "/admin/structures/import", None, IMPORTERS),
    R("POST", "/admin/structures/import", None, IMPORTERS_POST, files=IMPORT_FILE),
    R("GET", "/admin/structures/import/{job_id}", "/admin/structures/import/{import_84}",
      IMPORT_84),
    R("GET", "/admin/structures/import/{job_id}", "/admin/structures/import/{import_84}",
      (401, 403, 403, 200, 404, 403, 403, 200), htmx=True),
    R("GET", "/admin/structures/import/{job_id}/rapport.csv",
      "/admin/structures/import/{import_84}/rapport.csv", IMPORT_84),
    R("GET", "/admin/structures", "/admin/structures?finess={c}",
      (303, 403, 403, 403, 403, 403, 403, 303)),
    R("GET", "/admin/structures/nouvelle", None, ADMIN),
    R("POST", "/admin/structures/nouvelle", None, ADMIN_POST, data=NEW_STRUCTURE),
    R("GET", "/admin/structures/{finess}", "/admin/structures/{c}", ADMIN),
    R("POST", "/admin/structures/{finess}", "/admin/structures/{c}", ADMIN_POST,
      data=CORRECTION),
    R("POST", "/admin/structures/{finess}/liberer/{field}",
      "/admin/structures/{c}/liberer/category_code", ADMIN_POST, fresh="pin"),
    # ---- invitations of directors (ARS for their region, admin) and the invitee's page
    # ---- « Mon compte » (a wrong current password: 422; a director's colleague invited to
    # no structure: 422; other roles may not invite a colleague: 403)
    R("GET", "/mon-compte", None, LOGGED_200),
    R("POST", "/mon-compte/nom", None, (303,) * 8, data={"name": "Nom {actor}"}),
    R("POST", "/mon-compte/mot-de-passe", None, (303,) + (422,) * 7,
      data={"current": "pas-le-bon-mot-de-passe", "new": "x" * 20, "confirm": "x" * 20}),
    R("POST", "/mon-compte/invitation", None, (303, 422, 422, 403, 403, 403, 403, 403),
      data={"email": "collegue.{actor}@example.fr", "structure": ""}),
    R("GET", "/invitations", None, INVITERS),
    # ars_other: structure A is not in their region, said as a form error (422)
    R("POST", "/invitations", None, (303, 403, 403, 200, 422, 403, 403, 200),
      data={"email": "invite.{actor}@example.fr", "structures": "{a}"}),
    R("POST", "/invitations/{invitation_id}/annuler", "/invitations/{invitation}/annuler",
      INVITATION_OF_84, fresh="invitation"),
    P("GET", "/invitation/{token}", "/invitation/{invitation_token}", ALL_200),
    # anonymous: creates the invited account; logged in: another address than the invited one
    P("POST", "/invitation/{token}", "/invitation/{token}",
      (303, 403, 403, 403, 403, 403, 403, 403), fresh="invitation", new_client=True,
      data={"name": "Nouvelle Directrice", "password": "un-mot-de-passe-assez-long-2026",
            "password_confirm": "un-mot-de-passe-assez-long-2026"}),
    # ---- the account's security page: everyone's own (second factor, devices, tokens).
    # Directors are not enrolled (activation: a wrong code, 400; new recovery codes: back to
    # the page); the others are (activation: back to the page; new codes: a wrong code).
    R("GET", "/compte/securite", None, LOGGED_200),
    R("GET", "/compte/securite/activation", None, (303, 200, 200, 303, 303, 303, 303, 303)),
    R("POST", "/compte/securite/activation", None, (303, 400, 400, 303, 303, 303, 303, 303),
      data={"code": "000000"}),
    R("POST", "/compte/securite/codes-de-secours", None,
      (303, 303, 303, 400, 400, 400, 400, 400), data={"code": "000000"}),
    R("POST", "/compte/securite/appareils/{device_id}/oublier",
      "/compte/securite/appareils/{device}/oublier", (303, 404, 404, 303, 404, 404, 404, 404),
      fresh="device"),
    R("POST", "/compte/securite/appareils/oublier", None, (303,) * 8),
    R("POST", "/compte/securite/jetons", None, LOGGED_200, data=NEW_PAT),
    R("POST", "/compte/securite/jetons/{token_id}/revoquer",
      "/compte/securite/jetons/{pat}/revoquer", (303, 404, 404, 303, 404, 404, 404, 404),
      fresh="pat"),
    # ---- organisme gestionnaire (FINESS EJ) of structure A: the structures one may see
    R("GET", "/organismes/{finess_ej}", "/organismes/{a_ej}", VIEW_A),
    # ---- administration: questionnaires, accounts, audit trail
    R("GET", "/admin/questionnaires", None, ADMIN),
    R("GET", "/metrics", None, ADMIN),  # Prometheus: administrators (session or token)
    R("GET", "/admin/programmes", None, ADMIN),
    R("GET", "/admin/utilisateurs", None, ADMIN),
    R("GET", "/admin/utilisateurs/nouveau", None, ADMIN),
    R("POST", "/admin/utilisateurs/{user_id}/double-authentification",
      "/admin/utilisateurs/{victim}/double-authentification", ADMIN_POST),
    R("POST", "/admin/utilisateurs/nouveau", None, ADMIN_POST, data=NEW_USER),
    R("POST", "/admin/utilisateurs/{user_id}/desactiver", "/admin/utilisateurs/{victim}/desactiver",
      ADMIN_POST),
    R("POST", "/admin/utilisateurs/{user_id}/reactiver", "/admin/utilisateurs/{victim}/reactiver",
      ADMIN_POST),
    R("GET", "/admin/utilisateurs/{user_id}", "/admin/utilisateurs/{victim}", ADMIN),
    R("POST", "/admin/utilisateurs/{user_id}", "/admin/utilisateurs/{victim}", ADMIN_POST,
      data={"role": "director", "region": "", "structures": ""}),
    R("POST", "/admin/utilisateurs/{user_id}/lien-reinitialisation",
      "/admin/utilisateurs/{reset_target}/lien-reinitialisation", ADMIN),
    R("GET", "/admin/proconnect", None, ADMIN),
    # no such identity: the admin is answered 400 / 404, everyone else refused first
    R("POST", "/admin/proconnect/{identity_id}/lier", "/admin/proconnect/999999/lier",
      (303, 403, 403, 403, 403, 403, 403, 400), data={"email": "personne@example.fr"}),
    R("POST", "/admin/proconnect/{identity_id}/detacher", "/admin/proconnect/999999/detacher",
      (303, 403, 403, 403, 403, 403, 403, 404)),
    R("GET", "/admin/journal", None, ADMIN),
    R("GET", "/admin/journal/export.csv", None, ADMIN),
)


# What each actor must never read in a page, partial, export or API answer it is allowed to
# get (200, text): the names of the world's structures and shortlists outside its scope, and
# those structures' FINESS numbers (plain and as displayed). Public pages are not checked
# (an invitation link shows its structures to whoever holds it).
STRUCTURE_MARKERS = {"EHPAD A": "a", "EHPAD A2": "a2", "EHPAD B": "b", "Structure C": "c"}
NEVER_SEEN: dict[str, tuple[str, ...]] = {
    "anonymous": ("EHPAD A", "EHPAD B", "Structure C", "Vague 84", "Vague nationale",
                  "Campagne 84"),
    "director_a": ("EHPAD A2", "EHPAD B", "Structure C", "Vague 84", "Vague nationale"),
    "director_b": ("EHPAD A", "Structure C", "Vague 84", "Vague nationale", "Campagne 84"),
    "ars_a": ("EHPAD B", "Vague nationale"),
    "ars_other": ("EHPAD A", "Structure C", "Vague 84", "Vague nationale", "Campagne 84"),
    "committee_84": ("EHPAD B", "Vague nationale"),
    "committee_national": (),
    "admin": (),
}


# ---- the world ------------------------------------------------------------------------------


@dataclass
class World:
    app: FastAPI
    settings: Settings
    registry: Registry
    users: dict[str, int]  # actor -> user id
    values: dict[str, str]
    clients: dict[str, TestClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    serial: int = 0

    def session(self) -> Session:
        return Session(get_engine())

    def actor(self, session: Session, name: str) -> Any:
        user = session.get(User, self.users[name])
        assert user is not None
        return auth.build_actor(session, user)

    def client(self, name: str, *, new: bool = False) -> tuple[TestClient, str]:
        """A client logged in as `name` (anonymous: with its anonymous CSRF cookie) and the
        CSRF token to send."""
        if not new and name in self.clients:
            return self.clients[name], self.csrf[name]
        client = TestClient(self.app)
        if name == "anonymous":
            token = csrf_token(client)
        else:
            with self.session() as s:
                user = s.get(User, self.users[name])
                assert user is not None
                token = log_in(client, s, self.settings, user)
        if not new:
            self.clients[name], self.csrf[name] = client, token
        return client, token

    def token(self, name: str) -> str:
        if name not in self.tokens:
            self.tokens[name] = self.new_token(name)
        return self.tokens[name]

    def new_token(self, name: str) -> str:
        with self.session() as s:
            user = s.get(User, self.users[name])
            assert user is not None
            return auth.issue_api_token(s, self.settings, user).token

    def placeholders(self, actor: str) -> dict[str, str]:
        with self.session() as s:
            draft = s.get(Assessment, int(self.values["a_draft"]))
            assert draft is not None and draft.status == "draft"
            return {**self.values, "actor": actor, "a_draft_version": str(draft.version)}

    def fresh(self, what: str, actor: str) -> dict[str, str]:
        """Objects a case may consume, made anew for each case."""
        with self.session() as s:
            if what == "evidence":
                from app.reviews import service as reviews

                added = reviews.add_evidence(
                    s, self.settings, self.actor(s, "director_a"), int(self.values["a_draft"]),
                    "wifi", list(self._questions()), note=f"Note à supprimer ({actor})")
                return {"evidence": str(added[0].id)}
            if what == "pin":
                from app.structures import corrections

                structure = s.exec(select(Structure).where(
                    Structure.finess == self.values["c"])).one()
                admin = self.actor(s, "admin")
                for category in ("502", structure.category_code):  # there and back: pinned
                    corrections.correct(s, admin, structure.finess, corrections.CorrectionForm(
                        category_code=category, capacity="80", department="69"))
                return {}
            if what == "invitation":
                from app.accounts import invitations

                self.serial += 1
                invitation, link = invitations.create_invitation(
                    s, self.settings, self.actor(s, "ars_a"), invitations.NewInvitation(
                        email=f"invitee.{actor}.{self.serial}@example.fr",
                        structures=self.values["a"]))
                return {"invitation": str(invitation.id), "token": link.rsplit("/", 1)[1]}
            if what in ("pat", "device"):  # ars_a's own: nobody else's to revoke
                from app.accounts import second_factor, tokens_pat

                owner = s.get(User, self.users["ars_a"])
                assert owner is not None
                if what == "device":
                    second_factor.remember_device(s, self.settings, owner, "Firefox")
                    return {"device": str(second_factor.list_devices(s, owner.id or 0)[0].id)}
                pat = tokens_pat.create_pat(s, self.settings, owner, tokens_pat.NewPat(
                    name=f"Jeton {actor}", scope="read", days="30"))
                return {"pat": str(pat.row.id)}
        if what == "api_token":
            return {} if actor == "anonymous" else {"bearer": self.new_token(actor)}
        raise AssertionError(f"unknown fresh object {what}")

    def _questions(self) -> list[str]:
        q = self.registry.get(QID, QVERSION)
        assert q is not None
        return list(q.questions)


def _submit(s: Session, registry: Registry, user: User, structure: Structure,
            answers: dict[str, Any]) -> int:
    actor = auth.build_actor(s, user)
    draft, _ = svc.start_or_resume(s, actor, registry, structure.finess)
    assert draft.id is not None
    svc.save_answers(s, actor, registry, draft.id, draft.version, dict(answers))
    done = svc.submit(s, actor, registry, draft.id)
    assert done.id is not None and done.status == "submitted"
    return done.id


def build_world(app: FastAPI, settings: Settings) -> World:
    registry: Registry = app.state.registry
    with Session(get_engine()) as s:
        a = make_structure(s, name="EHPAD A", department="69",
                           finess_ej=finess_for("69", 9001))
        a2 = make_structure(s, name="EHPAD A2", department="01")
        b = make_structure(s, name="EHPAD B", department="75")
        c = make_structure(s, name="Structure C", department="69")
        users = {
            "director_a": make_user(s, "director", [a], email="directeur.a@example.fr"),
            "director_b": make_user(s, "director", [b], email="directeur.b@example.fr"),
            "ars_a": make_user(s, "ars", region="84", email="ars.84@example.fr"),
            "ars_other": make_user(s, "ars", region="11", email="ars.11@example.fr"),
            "committee_84": make_user(s, "committee", region="84", email="comite.84@example.fr"),
            "committee_national": make_user(s, "committee", email="comite.national@example.fr"),
            "admin": make_user(s, "admin", email="admin@example.fr"),
        }
        director_a2 = make_user(s, "director", [a2], email="directeur.a2@example.fr")
        victim = make_user(s, "director", email="victime@example.fr")
        # Never deactivated: the reset-link case must not depend on the deactivate case's order.
        reset_target = make_user(s, "director", email="victime.lien@example.fr")
        make_user(s, "director", email="api.client@example.fr")

        a_sub = _submit(s, registry, users["director_a"], a, PETIT_EHPAD)
        _submit(s, registry, director_a2, a2, PETIT_EHPAD)
        b_sub = _submit(s, registry, users["director_b"], b, PETIT_EHPAD)
        actor_a = auth.build_actor(s, users["director_a"])
        draft, _ = svc.start_or_resume(s, actor_a, registry, a.finess)  # prefilled
        assert draft.id is not None
        svc.save_answers(s, actor_a, registry, draft.id, draft.version, {MISSING: None})

        from app.reviews import service as reviews

        q = registry.get(QID, QVERSION)
        assert q is not None
        evidence = reviews.add_evidence(s, settings, actor_a, draft.id, "wifi",
                                        list(q.questions), upload=io.BytesIO(b"Plan du wifi\n"),
                                        filename="plan-wifi.txt")
        ars_a = auth.build_actor(s, users["ars_a"])
        reviews.record_review(s, settings, ars_a, a_sub, "validee", "")

        from app.shortlists import jobs
        from app.shortlists import service as shortlists
        from app.shortlists.ranking import Criteria

        sl_84 = shortlists.create(s, auth.build_actor(s, users["committee_84"]), "Vague 84",
                                  Criteria(region="84", size=5), None)
        sl_nat = shortlists.create(s, auth.build_actor(s, users["committee_national"]),
                                   "Vague nationale", Criteria(region=None, size=5), None)
        job = jobs.create(s, ars_a.id, "region_xlsx", {"region": "84"},
                          "evaluations-region-84.xlsx", 3)
        assert job.id is not None
        s.commit()  # end this session's read transaction: the job runs in its own session
        jobs.run(job.id, lambda: Session(get_engine()), settings, registry)
        s.commit()
        s.refresh(job)
        assert job.status == "done", job.error

        from app.structures import imports as imports
        from app.structures.adapters import EtalabCsvAdapter

        options = imports.options_for(ars_a, settings)
        import_job = imports.create_job(s, filename="finess-84.csv", options=options,
                                        user_id=ars_a.id)
        imports.run_import(s, import_job, EtalabCsvAdapter(CSV_SKIPPED, filename="finess-84.csv"),
                           options)

        from app.accounts import invitations

        _, link = invitations.create_invitation(s, settings, ars_a, invitations.NewInvitation(
            email="invitee@example.fr", structures=a.finess))

        from datetime import date

        from app.campaigns.models import Campaign

        campaign = Campaign(region="84", name="Campagne 84", starts_on=date(2026, 1, 1),
                            deadline=date(2027, 12, 31), categories=["500"])
        s.add(campaign)
        s.commit()

        values = {
            "campaign_84": str(campaign.id),
            "a_ej": a.finess_ej or "", "invitation_token": link.rsplit("/", 1)[1],
            "a": a.finess, "a2": a2.finess, "b": b.finess, "c": c.finess,
            "a_sub": str(a_sub), "b_sub": str(b_sub), "a_draft": str(draft.id),
            "evidence_file": str(evidence[0].id),
            "shortlist_84": str(sl_84.id), "shortlist_national": str(sl_nat.id),
            "job_of_ars_a": str(job.id), "import_84": str(import_job.id),
            "victim": str(victim.id), "reset_target": str(reset_target.id),
        }
        ids = {name: user.id for name, user in users.items() if user.id is not None}
        return World(app=app, settings=settings, registry=registry, users=ids, values=values)


@pytest.fixture(scope="module")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from app.main import create_app

    tmp = tmp_path_factory.mktemp("matrix")
    with temporary_database(backend, tmp, migrate=True) as url, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALIER_DATABASE_URL", url)
        mp.setenv("PALIER_EVIDENCE_DIR", str(tmp / "evidence"))
        mp.setenv("PALIER_EMAIL_BACKEND", "memory")
        _clear_caches()
        w: World | None = None
        try:
            app = create_app()
            w = build_world(app, get_settings())
            yield w
        finally:
            for client in (w.clients.values() if w else ()):
                client.close()
            _clear_caches()  # disposes the engine before the database is dropped


# ---- the cases ------------------------------------------------------------------------------


def request(w: World, row: Row, actor: str) -> Any:
    values = w.placeholders(actor)
    if row.fresh:
        values.update(w.fresh(row.fresh, actor))
    client, csrf = w.client(actor, new=row.new_client)

    def fill(value: Any, as_json: bool = False) -> Any:
        if isinstance(value, str):
            filled = value.format(**values)
            whole = value.startswith("{") and value.endswith("}") and value.count("{") == 1
            return int(filled) if as_json and whole and filled.isdigit() else filled
        if isinstance(value, dict):
            return {k: fill(v, as_json) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, as_json) for v in value]
        return value

    url = fill(row.url)
    headers = {"HX-Request": "true"} if row.htmx else {}
    if url.startswith("/api/"):
        if actor != "anonymous":
            headers.update(bearer(values.get("bearer") or w.token(actor)))
    elif row.method != "GET":
        headers["X-CSRF-Token"] = csrf
    kwargs: dict[str, Any] = {}
    if row.data is not None:
        kwargs["data"] = fill(row.data)
    if row.json is not None:
        kwargs["json"] = fill(row.json, as_json=True)
    if row.files is not None:
        kwargs["files"] = row.files
    try:
        return client.request(row.method, url, headers=headers, follow_redirects=False,
                              **kwargs)
    finally:
        if row.new_client:
            client.close()


CASES = [pytest.param(row, actor, id=row.case_id(actor)) for row in MATRIX for actor in ACTORS]


@pytest.mark.parametrize(("row", "actor"), CASES)
def test_permission(world: World, row: Row, actor: str) -> None:
    expected = row.expect[ACTORS.index(actor)]
    response = request(world, row, actor)
    detail = response.headers.get("location") or response.text[:300]
    assert response.status_code == expected, \
        f"{row.method} {row.url} as {actor}: {response.status_code}, expected {expected}: {detail}"
    if actor == "anonymous" and not row.public and expected == 303:
        assert response.headers["location"].startswith("/connexion")
    if row.public or actor == "anonymous":
        return
    if response.status_code == 303:  # where the action leads must not leak either
        client, _ = world.client(actor)
        response = client.get(response.headers["location"], follow_redirects=False)
    assert_nothing_outside_scope(world, actor, row, response)


def assert_nothing_outside_scope(world: World, actor: str, row: Row, response: Any) -> None:
    content_type = response.headers.get("content-type", "")
    if response.status_code != 200 or not content_type.startswith(("text/", "application/json")):
        return
    text = response.text
    leaks = []
    for marker in NEVER_SEEN[actor]:
        forms = [marker]
        if marker in STRUCTURE_MARKERS:
            number = world.values[STRUCTURE_MARKERS[marker]]
            forms += [number, f"{number[:2]} {number[2:5]} {number[5:8]} {number[8]}"]
        leaks += [f for f in forms if f in text]
    assert leaks == [], f"{row.method} {row.url} shows {actor} {leaks} ({response.url})"


def test_case_ids_are_unique() -> None:
    ids = [row.case_id(actor) for row in MATRIX for actor in ACTORS]
    assert len(ids) == len(set(ids))


def _app_keys() -> set[Key]:
    from app.main import create_app

    return route_keys(create_app())


def test_every_route_is_in_the_matrix() -> None:
    missing = sorted(_app_keys() - {row.key for row in MATRIX})
    assert missing == [], "routes missing from the permission matrix:\n" + "\n".join(
        f"{m} {p}" for m, p in missing)


def test_the_matrix_names_only_existing_routes() -> None:
    stale = sorted({row.key for row in MATRIX} - _app_keys())
    assert stale == [], "the matrix names routes the app no longer has:\n" + "\n".join(
        f"{m} {p}" for m, p in stale)

