"""`next_steps.of` reads each assessment's stored steps in their order (PostgreSQL: one row per
assessment, the steps aggregated; SQLite: one row per step), a text added after the caller
read the texts included, and an assessment without stored steps from its snapshot. Run on
SQLite and, with PALIER_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session

from app.shortlists import next_steps
from app.shortlists.models import AssessmentNextStep, NextStepText
from app.shortlists.next_steps import Text
from tests.factories import make_assessment, make_structure


def test_steps_in_their_order_per_assessment(session: Session) -> None:
    a, b, c = (make_assessment(session, make_structure(session), "submitted")
               for _ in range(3))
    ins = NextStepText(key="k-ins", tier=2, label="INS qualifiée", title="Qualifier l'INS",
                       effort="faible", funding="esms-numerique")
    mss = NextStepText(key="k-mss", tier=3, label="MSSanté", title="Intégrer MSSanté",
                       effort="moyen", funding="")
    session.add_all([ins, mss])
    session.commit()
    known = next_steps.texts(session)  # read before the third text exists
    dmp = NextStepText(key="k-dmp", tier=3, label="DMP", title="Alimenter le DMP",
                       effort="élevé", funding="segur|esms-numerique")
    session.add(dmp)
    session.commit()
    # Positions inserted out of order; c has no stored step (its snapshot has none either).
    session.add_all([
        AssessmentNextStep(assessment_id=b.id, position=1, text_id=ins.id, to_verify=False),
        AssessmentNextStep(assessment_id=a.id, position=2, text_id=dmp.id, to_verify=True),
        AssessmentNextStep(assessment_id=a.id, position=0, text_id=mss.id, to_verify=False),
        AssessmentNextStep(assessment_id=b.id, position=0, text_id=dmp.id, to_verify=False),
        AssessmentNextStep(assessment_id=a.id, position=1, text_id=ins.id, to_verify=True),
    ])
    session.commit()
    t_ins = Text(2, "INS qualifiée", "Qualifier l'INS", "faible", ("esms-numerique",))
    t_mss = Text(3, "MSSanté", "Intégrer MSSanté", "moyen", ())
    t_dmp = Text(3, "DMP", "Alimenter le DMP", "élevé", ("segur", "esms-numerique"))
    got = list(next_steps.of(session, [c.id or 0, a.id or 0, b.id or 0], known))
    assert got == [
        (c.id, []),
        (a.id, [(t_mss, False), (t_ins, True), (t_dmp, True)]),
        (b.id, [(t_dmp, False), (t_ins, False)]),
    ]
