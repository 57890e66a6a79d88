"""Palier's scoring engine: pure, no HTTP, no database.

Public surface: load a questionnaire, decide which questions apply, validate answers, score.
"""

from scoring.engine import Result, applicable, effective_answers, score, validate_answers
from scoring.errors import AnswerError, QuestionnaireError, SourceError
from scoring.loader import (
    CATALOGUE_FILE,
    load_catalogue,
    load_questionnaire,
    load_questionnaires,
    parse_questionnaire,
    questionnaire_files,
)
from scoring.model import Catalogue, Programme, Question, Questionnaire
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
