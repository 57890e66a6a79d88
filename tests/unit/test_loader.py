"""Questionnaire validation: every error class, each reported at FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scoring import (
    QuestionnaireError,
    load_catalogue,
    load_questionnaire,
    load_questionnaires,
    questionnaire_files,
)

HEAD = """\
id: t
version: "1"
title: "T"
domains:
  - {id: d1, label: "D1", weight: 1}
sections:
  - id: s1
    title: "S1"
    questions:
"""
# Lines 1-9 above; questions start on line 10.
QUESTION_OK = """\
      - id: q1
        type: single_choice
        label: "Q1"
        options:
          - {value: a, label: "A", points: {d1: 1}}
          - {value: b, label: "B", points: {d1: 2}}
"""
# q1 occupies lines 10-15.
TIERS_OK = """\
tiers:
  - {id: p0, level: 0, label: "P0", requires: []}
"""


def write(tmp_path: Path, text: str, name: str = "t-1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def catalogue(directory: Path, *ids: str) -> Path:
    """A valid programmes.yaml in `directory` naming `ids`."""
    path = directory / "programmes.yaml"
    path.write_text("programmes:\n" + "".join(
        f"  - {{id: {i}, label: L, status: open, as_of: 2026-12-01, summary: S,\n"
        f"     sources: [{{url: \"https://example.org/{i}\", title: T}}]}}\n" for i in ids),
        encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str, name: str = "t-1.yaml") -> list[str]:
    path = write(tmp_path, text, name)
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(path)
    prefix = f"{path}:"
    out = []
    for err in info.value.errors:
        line = str(err)
        assert line.startswith(prefix)
        out.append(line[len(prefix):])
    return out


def test_valid_minimal(tmp_path: Path) -> None:
    q = load_questionnaire(write(tmp_path, HEAD + QUESTION_OK + TIERS_OK))
    assert q.id == "t" and q.version == "1"
    assert list(q.questions) == ["q1"]


def test_yaml_syntax_error_alone(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK + "tiers: [\n  - oops: {\n"
    errs = errors_of(tmp_path, text)
    assert len(errs) == 1
    assert "YAML invalide" in errs[0]


def test_yaml_syntax_error_position(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, 'id: t\nversion: "1"\ntitle: [unclosed\n')
    assert len(errs) == 1
    assert errs[0].startswith("4:1:") or errs[0].startswith("3:")


def test_unquoted_version(tmp_path: Path) -> None:
    text = (HEAD + QUESTION_OK + TIERS_OK).replace('version: "1"', "version: 2026.1")
    errs = errors_of(tmp_path, text)
    assert errs == ["2:10: version : une chaîne entre guillemets est attendue (ex. \"2026.1\"), "
                    "reçu 2026.1"]


def test_unknown_key_and_missing_key_all_reported(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK.replace('        label: "Q1"\n', '        labl: "Q1"\n') + TIERS_OK
    errs = errors_of(tmp_path, text)
    assert errs[0].startswith("10:9: clé obligatoire « label » manquante")
    assert errs[1].startswith("12:9: clé inconnue « labl »")
    assert len(errs) == 2


def test_duplicate_key(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK + TIERS_OK + 'title: "encore"\n'
    errs = errors_of(tmp_path, text)
    assert errs == ["18:1: clé « title » répétée"]


def test_duplicate_question_and_option_ids(tmp_path: Path) -> None:
    dup = QUESTION_OK.replace("value: b", "value: a")
    text = HEAD + QUESTION_OK + dup + TIERS_OK
    errs = errors_of(tmp_path, text)
    # second q1 on line 16; its duplicated option value on line 21, col 15
    assert errs == [
        "16:13: question « q1 » en double (déjà à la ligne 10)",
        "21:21: valeur d'option « a » en double (déjà à la ligne 20)",
    ]


def test_unknown_domain_in_points_and_negative_points(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK.replace("points: {d1: 2}", "points: {d9: -1}") + TIERS_OK
    errs = errors_of(tmp_path, text)
    assert errs == [
        "15:45: domaine inconnu « d9 » dans points",
        "15:49: points : un nombre positif ou nul est attendu",
    ]


def test_reserved_global_domain_and_bad_weight(tmp_path: Path) -> None:
    text = (HEAD + QUESTION_OK + TIERS_OK).replace(
        '  - {id: d1, label: "D1", weight: 1}',
        '  - {id: d1, label: "D1", weight: 0}\n  - {id: global, label: "G", weight: 1}')
    errs = errors_of(tmp_path, text)
    assert errs == [
        "5:35: weight : doit être strictement positif",
        "6:10: l'identifiant de domaine « global » est réservé",
    ]


def test_show_if_on_later_question_and_on_itself(tmp_path: Path) -> None:
    q2 = """\
      - id: q2
        type: text
        label: "Q2"
        show_if: {question: q2, answered: true}
      - id: q3
        type: text
        label: "Q3"
"""
    show_if = '        show_if: {question: q3, answered: true}\n'
    first = QUESTION_OK.replace('        label: "Q1"\n', '        label: "Q1"\n' + show_if)
    text = HEAD + first + q2 + TIERS_OK
    errs = errors_of(tmp_path, text)
    assert errs == [
        "13:29: show_if ne peut porter que sur une question déclarée avant (« q3 »)",
        "20:29: show_if ne peut pas porter sur la question elle-même (« q2 »)",
    ]


def test_operator_not_fitting_type_and_unknown_option(tmp_path: Path) -> None:
    tiers = """\
tiers:
  - {id: p0, level: 0, label: "P0", requires: []}
  - id: p1
    level: 1
    label: "P1"
    requires:
      - id: r1
        label: "R1"
        condition: {all: [{question: q1, at_least: 3}, {question: q1, in: [a, z]}]}
        next_step: {title: "T", effort: faible}
"""
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + tiers)
    assert errs == [
        "24:42: l'opérateur « at_least » ne s'applique pas à une question de type "
        "single_choice (« q1 »)",
        "24:79: « z » n'est pas une option de la question « q1 »",
    ]


def test_bands_not_increasing_and_min_max(tmp_path: Path) -> None:
    num = """\
      - id: n1
        type: number
        label: "N"
        min: 10
        max: 5
        bands:
          - {from: 0, points: {d1: 1}}
          - {from: 0, points: {d1: 2}}
"""
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + num + TIERS_OK)
    assert errs == [
        "20:14: max doit être supérieur ou égal à min",
        "23:20: from : les tranches doivent être strictement croissantes",
    ]


def test_levels_missing_next_step_unknown_funding(tmp_path: Path) -> None:
    tiers = """\
tiers:
  - {id: p0, level: 0, label: "P0", requires: []}
  - id: p2
    level: 2
    label: "P2"
    requires:
      - id: r1
        label: "R1"
        condition: {question: q1, equals: a}
      - id: r2
        label: "R2"
        condition: {question: q1, equals: b}
        next_step: {title: "T", effort: enorme, funding: [nope]}
funding:
  - id: f1
    label: "F1"
"""
    catalogue(tmp_path, "f1")
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + tiers)
    assert errs == [
        "19:12: level : les niveaux doivent se suivre à partir de 0 dans l'ordre déclaré "
        "(attendu 1, reçu 2)",
        "22:9: clé obligatoire « next_step » manquante dans une exigence",
        "28:41: effort : « enorme » inconnu (faible, moyen ou eleve)",
        "28:59: financement inconnu « nope »",
        "30:5: clé obligatoire « eligible_if » manquante dans un financement",
    ]


def test_score_leaf_in_show_if_and_tier_leaf_in_requirement(tmp_path: Path) -> None:
    q2 = """\
      - id: q2
        type: text
        label: "Q2"
        show_if: {score: d1, at_least: 10}
"""
    tiers = """\
tiers:
  - id: p0
    level: 0
    label: "P0"
    requires:
      - id: r1
        label: "R1"
        condition: {tier_at_least: 0}
        next_step: {title: "T", effort: faible}
"""
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + q2 + tiers)
    assert errs == [
        "19:19: une condition sur un score est interdite dans show_if",
        "27:21: « tier_at_least » n'est permis que dans l'éligibilité d'un financement",
    ]


def test_unknown_question_and_unknown_operator(tmp_path: Path) -> None:
    tiers = """\
tiers:
  - id: p0
    level: 0
    label: "P0"
    requires:
      - id: r1
        label: "R1"
        condition: {any: [{question: nope, equals: a}, {question: q1, resembles: a}]}
        next_step: {title: "T", effort: faible}
"""
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + tiers)
    assert errs == [
        "23:38: question inconnue « nope »",
        "23:71: opérateur inconnu « resembles »",
    ]


def test_option_value_must_be_a_string(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK.replace("value: b", "value: yes") + TIERS_OK
    errs = errors_of(tmp_path, text)
    assert errs == ["15:21: value : une chaîne est attendue, reçu True (mettez-la entre "
                    "guillemets)"]


def test_file_name_must_match_id_and_version(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + TIERS_OK, name="other.yaml")
    assert errs == ["1:5: le fichier doit s'appeler « t-1.yaml » (un fichier par id et version)"]


def test_two_files_same_id_version_are_both_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    p1 = write(tmp_path / "a", HEAD + QUESTION_OK + TIERS_OK)
    p2 = write(tmp_path / "b", HEAD + QUESTION_OK + TIERS_OK)
    ok, refused = load_questionnaires([p1, p2])
    assert ok == []
    assert [str(e.errors[0]).split(": ")[0] for e in refused] == [f"{p1}:1:5", f"{p2}:1:5"]


def test_every_error_of_a_broken_file_is_reported(tmp_path: Path) -> None:
    text = """\
id: Bad_Id
version: 3
title: ""
domains: []
sections:
  - id: s1
    title: "S"
    questions:
      - {id: x, type: slider, label: "X"}
tiers:
  - {id: p0, level: 1, label: "P0", requires: []}
extra: true
"""
    errs = errors_of(tmp_path, text, name="Bad_Id-3.yaml")
    assert errs == [
        "1:5: id : seuls a-z, 0-9 et - sont permis",
        "2:10: version : une chaîne entre guillemets est attendue (ex. \"2026.1\"), reçu 3",
        "3:8: title : une chaîne non vide est attendue",
        "4:10: domains : au moins un domaine est attendu",
        "9:23: type : « slider » inconnu (single_choice, multiple_choice, number, text)",
        "11:21: level : les niveaux doivent se suivre à partir de 0 dans l'ordre déclaré "
        "(attendu 0, reçu 1)",
        "12:1: clé inconnue « extra » dans le questionnaire (clés permises : id, version, "
        "title, description, domains, sections, tiers, funding)",
    ]


# ---- anchors and aliases (issue 8, defect 5) -------------------------------------------------

NO_ALIAS = "ancres et alias YAML (& et *) refusés : le format n'en a pas besoin, " \
    "écrivez chaque valeur en entier"


def test_recursive_alias_is_refused_with_its_position(tmp_path: Path) -> None:
    # Before: RecursionError escaped the loader.
    errs = errors_of(tmp_path, "a: &a [*a]\n")
    assert errs == [f"1:4: ancre « &a » : {NO_ALIAS}", f"1:8: alias « *a » : {NO_ALIAS}"]


def billion_laughs() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    # Before: 9^9 strings were built (> 120 s, 1.9 GB). Refused before building anything.
    errs = errors_of(tmp_path, billion_laughs())
    assert errs[:3] == [f"1:4: ancre « &a » : {NO_ALIAS}", f"2:4: ancre « &b » : {NO_ALIAS}",
                        f"2:8: alias « *a » : {NO_ALIAS}"]
    assert len(errs) == 20  # the first twenty are enough


def test_anchor_in_an_otherwise_valid_questionnaire(tmp_path: Path) -> None:
    text = (HEAD + QUESTION_OK + TIERS_OK).replace('title: "T"', 'title: &t "T"')
    assert errors_of(tmp_path, text) == [f"3:8: ancre « &t » : {NO_ALIAS}"]


def test_unknown_tag_and_deep_nesting_are_errors_not_crashes(tmp_path: Path) -> None:
    text = (HEAD + QUESTION_OK + TIERS_OK).replace('title: "T"', 'title: !obj "T"')
    assert errors_of(tmp_path, text) == [
        "3:8: YAML invalide : could not determine a constructor for the tag '!obj'"]
    errs = errors_of(tmp_path, "a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert len(errs) == 1 and "YAML invalide" in errs[0]


def test_a_refused_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(tmp_path, HEAD + QUESTION_OK + TIERS_OK)
    bad = write(tmp_path, billion_laughs(), name="bad-1.yaml")
    ok, refused = load_questionnaires([bad, good])
    assert [q.key for q in ok] == [("t", "1")]
    assert [e.errors[0].file for e in refused] == [str(bad)]


# ---- revision 2: unknown options, applies_if, funding kind and sources, catalogue -------------


def test_unknown_option_rules(tmp_path: Path) -> None:
    questions = """\
      - id: q1
        type: single_choice
        label: "Q1"
        options:
          - {value: a, label: "A", points: {d1: 1}}
          - {value: n, label: "NSP", unknown: true, points: {d1: 0}}
          - {value: m, label: "NSP2", unknown: true}
      - id: q2
        type: multiple_choice
        label: "Q2"
        options:
          - {value: x, label: "X", unknown: true}
"""
    errs = errors_of(tmp_path, HEAD + questions + TIERS_OK)
    assert errs == [
        "15:53: une option unknown (« je ne sais pas ») ne rapporte aucun point",
        "16:39: une seule option unknown par question (déjà à la ligne 15)",
        "21:36: unknown n'a de sens que pour une question single_choice",
    ]


def test_applies_if_kind_and_sources(tmp_path: Path) -> None:
    rest = """\
tiers:
  - {id: p0, level: 0, label: "P0", requires: []}
  - id: p1
    level: 1
    label: "P1"
    requires:
      - id: r1
        label: "R1"
        condition: {question: q1, equals: a}
        applies_if: {any: [{score: d1, at_least: 1}, {tier_at_least: 0}]}
        next_step: {title: "T", effort: faible}
funding:
  - id: f1
    label: "F1"
    kind: aide
    eligible_if: {question: q1, equals: a}
    sources: [{url: "ftp://x", label: "X"}]
  - {id: f2, label: "F2", kind: resource}
"""
    catalogue(tmp_path, "f1", "f2")
    errs = errors_of(tmp_path, HEAD + QUESTION_OK + rest)
    assert errs == [
        "25:29: une condition sur un score est interdite dans applies_if",
        "25:55: « tier_at_least » n'est permis que dans l'éligibilité d'un financement "
        "(pas dans applies_if)",
        "30:11: kind : « aide » inconnu (funding ou resource)",
        "32:15: clé obligatoire « title » manquante dans une source",
        "32:21: url : une adresse http(s):// est attendue",
        "32:32: clé inconnue « label » dans une source (clés permises : url, title)",
    ]


FUNDING_ZZ = """\
funding:
  - id: zz
    label: "Z"
    eligible_if: {question: q1, equals: a}
"""


def test_funding_id_must_be_in_the_catalogue(tmp_path: Path) -> None:
    text = HEAD + QUESTION_OK + TIERS_OK + FUNDING_ZZ
    assert errors_of(tmp_path, text) == [
        f"19:9: programme « zz » : catalogue {tmp_path / 'programmes.yaml'} introuvable ou "
        "invalide"]
    catalogue(tmp_path, "f1")
    assert errors_of(tmp_path, text) == [
        f"19:9: programme « zz » absent du catalogue {tmp_path / 'programmes.yaml'}"]
    catalogue(tmp_path, "zz")
    q = load_questionnaire(write(tmp_path, text))
    assert q.catalogue is not None and q.catalogue.get("zz") is not None


BAD_CATALOGUE = """\
programmes:
  - id: a
    label: "A"
    status: ouvert
    as_of: "2026-12-01"
    summary: "S"
    sources: []
    window: {from: 2026-01-01, until: 2025-01-01}
  - id: a
    label: "A2"
    statut: open
    as_of: 2026-12-01
    summary: "S"
    sources: [{url: "https://x.org", title: "X"}]
extra: 1
"""


def test_catalogue_errors(tmp_path: Path) -> None:
    path = tmp_path / "programmes.yaml"
    path.write_text(BAD_CATALOGUE, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_catalogue(path)
    assert [str(e) for e in info.value.errors] == [f"{path}:{e}" for e in [
        "4:13: status : « ouvert » inconnu (open, closed, ended ou announced)",
        "5:12: as_of : une date AAAA-MM-JJ est attendue (sans guillemets)",
        "7:14: sources : au moins une source est attendue",
        "8:39: until doit être postérieur ou égal à from",
        "9:5: clé obligatoire « status » manquante dans un programme",
        "9:9: programme « a » en double (déjà à la ligne 2)",
        "11:5: clé inconnue « statut » dans un programme (clés permises : id, label, status, "
        "as_of, window, summary, sources)",
        "15:1: clé inconnue « extra » dans le catalogue des programmes (clés permises : "
        "programmes)",
    ]]
    # In a folder: the catalogue is refused once, and a questionnaire naming a programme
    # is refused at its funding id; one without funding still loads.
    named = write(tmp_path, HEAD + QUESTION_OK + TIERS_OK + FUNDING_ZZ)
    plain = write(tmp_path, (HEAD + QUESTION_OK + TIERS_OK).replace("id: t", "id: u"),
                  name="u-1.yaml")
    ok, refused = load_questionnaires([named, plain])
    assert [q.key for q in ok] == [("u", "1")]
    assert [[f"{e.file}:{e.line}:{e.col}" for e in exc.errors][:1] for exc in refused] == [
        [f"{path}:4:13"], [f"{named}:19:9"]]


def test_catalogue_is_not_a_questionnaire(tmp_path: Path) -> None:
    catalogue(tmp_path, "f1")
    write(tmp_path, HEAD + QUESTION_OK + TIERS_OK)
    assert [p.name for p in questionnaire_files(tmp_path)] == ["t-1.yaml"]
