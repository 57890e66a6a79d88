"""Palier's scoring engine: pure, no HTTP, no database.

Public surface: load a questionnaire, decide which questions apply, validate answers, score.
"""

from scoring.answers import (
    applicable,
    applicable_and_effective,
    effective_answers,
    validate_answers,
)
from scoring.engine import Result, score
from scoring.errors import AnswerError, QuestionnaireError, SourceError
from scoring.loader import (
    load_catalogue,
    load_questionnaire,
    load_questionnaires,
    parse_questionnaire,
    questionnaire_files,
)
from scoring.model import Catalogue, Programme, Question, Questionnaire
from scoring.schema import CATALOGUE_FILE
from scoring.text import MAX_TEXT_ANSWER, text_problem

__all__ = [
    "CATALOGUE_FILE",
    "MAX_TEXT_ANSWER",
    "AnswerError",
    "Catalogue",
    "Programme",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "Result",
    "SourceError",
    "applicable",
    "applicable_and_effective",
    "effective_answers",
    "load_catalogue",
    "load_questionnaire",
    "load_questionnaires",
    "parse_questionnaire",
    "questionnaire_files",
    "score",
    "text_problem",
    "validate_answers",
]
