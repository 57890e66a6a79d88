"""Property-based fuzz of the JSON API: schemathesis generates requests from the app's own
OpenAPI schema (valid ones, and invalid ones: wrong types, huge numbers, odd strings) and
sends them in process, as a director and as an ARS referent (bearer tokens from
POST /api/v1/auth/token). Every response must be a non-5xx that conforms to the schema
(status, content type, body). Deterministic (derandomized) so that CI is stable; on every
backend.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlmodel import Session

from app.permissions import Role
from tests.auth_helpers import api_token, bearer
from tests.factories import make_assessment, make_structure, make_user
from tests.unit.test_real_questionnaire import best

MAX_EXAMPLES = 25  # per operation and generation mode
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Not fuzzed: token creation (argon2 and the login rate limit make it slow and stateful; its
# own tests cover it) and token revocation (it would log the fuzzer out).
SKIPPED = {("POST", "/api/v1/auth/token"), ("DELETE", "/api/v1/auth/token")}


@pytest.fixture
def fuzz_world(app_client: TestClient, session: Session) -> dict[str, Any]:
    """Data for the fuzzer to find: structures, a draft, a submitted assessment."""
    a = make_structure(session, department="69", name="EHPAD Les Tilleuls")
    b = make_structure(session, department="69", name="SSIAD du Rhône", category_code="354",
                       category_label="Service de Soins Infirmiers A Domicile")
    director = make_user(session, role=Role.director, structures=[a, b], email="dir@test.fr")
    make_user(session, role=Role.ars, region="84", email="ars84@test.fr")
    done = make_assessment(session, b, "submitted", answers=best("ehpad"), by=director,
                           tier_id="palier-4", tier_level=4, global_score=100.0)
    draft = make_assessment(session, a, answers={"capacite": 80}, by=director)
    return {"tokens": {"director": bearer(api_token(app_client, "dir@test.fr")),
                       "ars": bearer(api_token(app_client, "ars84@test.fr"))},
            # Path parameters that exist, so that valid requests also reach the services.
            "known": {"assessment_id": [draft.id, done.id], "finess": [a.finess, b.finess],
                      "code": ["84"], "qid": ["esms-maturite-numerique"],
                      "version": ["2026.1"]}}


def _strategy(operation: Any, mode: GenerationMode, known: dict[str, list[Any]]) -> Any:
    """Generated cases; valid ones half of the time on existing objects."""
    generated = operation.as_strategy(mode)
    names = [p.name for p in operation.path_parameters]
    if mode is not GenerationMode.POSITIVE or not names or not all(n in known for n in names):
        return generated
    existing = st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names}).flatmap(
        lambda params: operation.as_strategy(mode, path_parameters=params))
    return st.one_of(generated, existing)


def _failure(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if len(text) < 3000 else text[:3000] + "…"


def test_api_fuzz(app_client: TestClient, fuzz_world: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_client.app)
    schema = schema.include(path_regex="^/api/v1/")
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                      database=None, phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=_strategy(operation, mode, fuzz_world["known"]),
                   who=st.sampled_from(sorted(fuzz_world["tokens"])))
            def run(case: Any, who: str) -> None:
                response = case.call_and_validate(headers=fuzz_world["tokens"][who],
                                                  checks=CHECKS)
                statuses[response.status_code // 100 * 100] += 1

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, free strings)
                continue
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}):"
                                f"\n{_failure(exc)}")
    assert operations >= 15
    assert statuses[200] >= 50 and statuses[400] >= 200, statuses  # both paths exercised
    assert not failures, "\n\n".join(failures)
