"""`palier questionnaire check` and `palier score` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires" / "mini-1.yaml"
runner = CliRunner()


def test_check_valid() -> None:
    res = runner.invoke(cli, ["questionnaire", "check", str(MINI)])
    assert res.exit_code == 0
    assert "mini version 1 valide (4 questions, 3 paliers)" in res.output


def test_check_invalid_lists_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "mini-1.yaml"
    (tmp_path / "programmes.yaml").write_text((MINI.parent / "programmes.yaml").read_text())
    bad.write_text(MINI.read_text().replace("weight: 2", "weight: -2")
                   .replace("type: text", "type: texte"))
    res = runner.invoke(cli, ["questionnaire", "check", str(bad), str(MINI)])
    assert res.exit_code == 1
    lines = [line for line in res.stderr.splitlines() if line]
    assert lines == [
        f"{bad}:6:37: weight : doit être strictement positif",
        f"{bad}:38:15: type : « texte » inconnu (single_choice, multiple_choice, number, text)",
    ]
    assert "mini version 1 valide" in res.stdout


def test_score_json(tmp_path: Path) -> None:
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"internet": "adsl", "postes": 85}))
    res = runner.invoke(cli, ["score", "--questionnaire", str(MINI), "--answers", str(answers),
                              "--json"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    # equipement: adsl 1 + band 80 -> 2 = 3/5; dui: fonctions applicable, unanswered 0/3.
    assert out["domains"][0]["score"] == 60.0
    assert out["domains"][1]["score"] == 0.0
    assert out["global_score"] == 20.0
    assert out["tier"]["id"] == "p0"


def test_score_summary_in_french(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("internet: adsl\npostes: 85\n")
    res = runner.invoke(cli, ["score", "-q", str(MINI), "-a", str(answers)])
    assert res.exit_code == 0
    assert res.stdout.splitlines()[:2] == ["Palier atteint : P0", "Score global : 20,0"]
    assert "  P1" in res.stdout and "    - Fibre (effort moyen ; financements : prog)" in res.stdout
    assert "  - prog : non éligible" in res.stdout


def test_score_invalid_answers_exit_2(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("internet: wifi\npostes: 120\nautre: 1\n")
    res = runner.invoke(cli, ["score", "-q", str(MINI), "-a", str(answers)])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        "internet: option inconnue (valeur : 'wifi')",
        "postes: le nombre doit être inférieur ou égal à 100 (valeur : 120)",
        "autre: question inconnue (valeur : 1)",
    ]


def test_score_unreadable_answers_exit_2(tmp_path: Path) -> None:
    answers = tmp_path / "a.json"
    answers.write_text("{not json")
    res = runner.invoke(cli, ["score", "-q", str(MINI), "-a", str(answers)])
    assert res.exit_code == 2
    assert "réponses illisibles" in res.stderr


def test_check_validates_the_catalogue_beside_the_files(tmp_path: Path) -> None:
    res = runner.invoke(cli, ["questionnaire", "check", str(MINI)])
    assert f"{MINI.parent / 'programmes.yaml'} : catalogue des programmes valide " \
        "(4 programmes)" in res.stdout
    copy = tmp_path / "mini-1.yaml"
    copy.write_text(MINI.read_text())
    (tmp_path / "programmes.yaml").write_text(
        (MINI.parent / "programmes.yaml").read_text().replace("status: open", "status: ouvert",
                                                              1))
    res = runner.invoke(cli, ["questionnaire", "check", str(copy)])
    assert res.exit_code == 1
    catalogue = tmp_path / "programmes.yaml"
    assert res.stderr.splitlines() == [
        f"{catalogue}:4:13: status : « ouvert » inconnu (open, closed, ended ou announced)",
        f"{copy}:59:9: programme « prog » : catalogue {catalogue} introuvable ou invalide",
    ]


def test_score_summary_of_revision_2(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("type_structure: ssiad\ndui: oui\nins: nsp\nmedic: non\nusage: 60\n")
    res = runner.invoke(cli, ["score", "-q", str(MINI.parent / "rev2-1.yaml"), "-a",
                              str(answers)])
    assert res.exit_code == 0, res.output
    out = res.stdout.splitlines()
    assert "Pour atteindre P2 :" in out
    assert "  - INS (à vérifier : réponse « je ne sais pas »)" in out
    assert "Réponses « je ne sais pas » : ins" in out
    assert "    - Qualifier l'INS (effort faible ; à vérifier)" in out
    assert "  - prog2 : non éligible" in out
