"""Trend and position charts (issue 10): the structure page draws its scores across its
submissions (with the palier of each), the result page loads the like-for-like position,
whose chart shows each percentile. Coordinates computed by hand from app/web/trend_charts.py:
plot top 40 px, height 220 px (y = 40 + 220 × (1 − score/100)), first point at x = 64, next
one 160 px further; horizontal bars 360 px for 100."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlmodel import Session

from app.assessments.models import AssessmentStatus
from app.structures.models import Structure
from app.web.trend_charts import position_chart
from tests.director_client import Director
from tests.factories import make_assessment


def submission(session: Session, s: Structure, when: datetime, level: int,
               global_score: float, dui: float) -> int:
    result = {"tier": {"id": f"palier-{level}", "level": level, "label": f"Palier {level}"},
              "global_score": global_score,
              "domains": [{"id": "dui", "label": "Dossier usager", "score": dui,
                           "earned": dui, "max": 100}]}
    a = make_assessment(session, s, AssessmentStatus.submitted, result=result,
                        tier_id=f"palier-{level}", tier_level=level,
                        global_score=global_score, submitted_at=when)
    session.commit()
    assert a.id is not None
    return a.id


def test_structure_page_draws_the_trend(director: Director, session: Session,
                                        ehpad: Structure) -> None:
    submission(session, ehpad, datetime(2026, 3, 2, 9, tzinfo=UTC), 2, 40.0, 50.0)
    aid = submission(session, ehpad, datetime(2026, 9, 14, 9, tzinfo=UTC), 3, 60.0, 75.0)
    page = director.get(f"/structures/{ehpad.finess}").text
    assert "<title id=\"tendance-t\">Évolution des scores de la structure</title>" in page
    assert 'points="64.0,172.0 224.0,128.0"' in page  # global: 40 then 60
    assert 'points="64.0,150.0 224.0,95.0"' in page  # Dossier usager: 50 then 75
    assert ">Palier 2</text>" in page and ">Palier 3</text>" in page
    assert ">2 mars 2026</text>" in page and ">14 septembre 2026</text>" in page
    assert "Score global (60,0)" in page
    result = director.get(f"/evaluations/{aid}/resultat").text
    assert f'hx-get="/structures/{ehpad.finess}/comparaison?evaluation=' in result


def test_one_submission_draws_no_trend(director: Director, session: Session,
                                       ehpad: Structure) -> None:
    submission(session, ehpad, datetime(2026, 3, 2, 9, tzinfo=UTC), 2, 40.0, 50.0)
    page = director.get(f"/structures/{ehpad.finess}").text
    assert "tendance-t" not in page


def test_position_chart_bars_are_the_percentiles() -> None:
    lfl = SimpleNamespace(structure=SimpleNamespace(id=7))
    position = SimpleNamespace(scope="region", basis="category", global_percentile=75.0,
                               domains=[{"label": "Dossier usager", "percentile": 50.0}])
    svg = str(position_chart(lfl, position))
    assert "Centile de la structure parmi des structures semblables, dans la région" in svg
    assert 'width="270.0"' in svg and 'width="180.0"' in svg  # 75 and 50 of 360 px
    small = SimpleNamespace(scope="national", basis=None, global_percentile=None, domains=[])
    assert position_chart(lfl, small) is None
