"""Errors raised by services; routes map them to HTTP statuses (see app/routes/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scoring import AnswerError


class ServiceError(Exception):
    status = 400
    message = "Requête invalide."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class Unprocessable(ServiceError):
    """The request's values cannot be used as sent (422)."""

    status = 422


class WrongState(ServiceError):
    """The object's state does not allow the action, yet or any more (409)."""

    status = 409


class InvalidFields(Unprocessable):
    """A form with errors by field name; nothing was saved. Subclasses set the message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__()
        self.errors = errors


class NotFound(ServiceError):
    """Absent, or outside the actor's scope (never say which)."""

    status = 404
    message = "Élément introuvable."


class Forbidden(ServiceError):
    """Visible to the actor, but the action is not theirs."""

    status = 403
    message = "Vous n'avez pas le droit d'effectuer cette action."


class NotEditable(WrongState):
    message = "Cette évaluation a été transmise : elle ne peut plus être modifiée."


class QuestionnaireUnavailable(ServiceError):
    status = 503
    message = "Le questionnaire de cette évaluation n'est pas chargé."


class InvalidValue(Unprocessable):
    message = ("Une valeur de la requête ne peut pas être enregistrée (caractère interdit ou "
               "nombre hors limites).")


class InvalidAnswers(Unprocessable):
    message = "Certaines réponses sont invalides."

    def __init__(self, errors: list[AnswerError]) -> None:
        super().__init__()
        self.errors = errors


class Incomplete(Unprocessable):
    message = "Des questions obligatoires sont sans réponse."

    def __init__(self, missing: list[str]) -> None:
        super().__init__()
        self.missing = missing


@dataclass(frozen=True, slots=True)
class ConflictItem:
    question: str
    theirs: Any  # the value saved meanwhile by someone else (or another tab)
    yours: Any  # the value this request tried to save
    by: int | None
    at: str | None


class Conflict(WrongState):
    message = ("Cette réponse a été modifiée entre-temps (autre onglet ou autre personne) : "
               "rien n'a été écrasé.")

    def __init__(self, items: list[ConflictItem], version: int) -> None:
        super().__init__()
        self.items = items
        self.version = version
