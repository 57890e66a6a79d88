"""The acknowledgement of a submission: its number (computed, never stored) and the e-mail
sent to the submitting user (`service.submit`)."""

from __future__ import annotations

from datetime import UTC

from app.assessments.models import Assessment
from app.config import Settings
from app.email import send_email
from app.formatting import PARIS, date_fr
from app.structures.models import Structure


def receipt_number(a: Assessment) -> str:
    """The acknowledgement number of a submission: « PAL-<year>-<id on 6 digits> », the
    year of submission in Paris time. Unique (the id is) and computed, never stored."""
    assert a.id is not None and a.submitted_at is not None
    when = a.submitted_at if a.submitted_at.tzinfo else a.submitted_at.replace(tzinfo=UTC)
    return f"PAL-{when.astimezone(PARIS).year}-{a.id:06d}"


def send_receipt(settings: Settings, to: str, a: Assessment, s: Structure) -> None:
    """E-mail the acknowledgement of a submission."""
    tier = (a.result or {}).get("tier") or {}
    base = settings.public_url
    number = receipt_number(a)
    body = (
        f"Bonjour,\n\n"
        f"L’autodiagnostic de « {s.name} » (FINESS {s.finess}) a bien été transmis à votre "
        f"ARS le {date_fr(a.submitted_at)}.\n\n"
        f"Numéro d’accusé de réception : {number}\n"
        f"Palier atteint : {tier.get('label') or 'non déterminé'}\n\n"
        f"Déclaration (PDF) : {base}/evaluations/{a.id}/declaration.pdf\n"
        f"Résultat détaillé : {base}/evaluations/{a.id}/resultat\n\n"
        f"Conservez ce numéro : il identifie votre transmission auprès de l’ARS.\n"
        f"\n-- \nPalier, autodiagnostic de maturité numérique des ESMS\n"
    )
    send_email(settings, to, f"Palier : accusé de réception {number}", body)
