"""French filters, question partials, form macros, render() and the base layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup
from starlette.requests import Request

from app.config import get_settings
from app.formatting import date_fr, finess, number_fr
from app.web.templating import (
    env,
    markdown,
    question_field,
    render,
    template_globals,
)

NNBSP = "\u202f"


# --- a small HTML model for assertions -------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


VOID = {"input", "br", "meta", "link", "img", "hr"}


class Tree(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.current = self.root
        self.elements: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag
            and all(e.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.get("id") == element_id]
        assert len(found) == 1, f"expected one #{element_id}, found {len(found)}"
        return found[0]


# --- filters -------------------------------------------------------------------------------


class TestDateFr:
    def test_date(self) -> None:
        assert date_fr(date(2026, 11, 27)) == "27 novembre 2026"

    def test_first_of_month(self) -> None:
        assert date_fr(date(2026, 3, 1)) == "1er mars 2026"

    def test_datetime_utc_in_winter_is_shown_in_paris_time(self) -> None:
        assert date_fr(datetime(2026, 11, 27, 13, 5, tzinfo=UTC)) == "27 novembre 2026 à 14 h 05"

    def test_datetime_utc_in_summer(self) -> None:
        assert date_fr(datetime(2026, 7, 1, 7, 30, tzinfo=UTC)) == "1er juillet 2026 à 9 h 30"

    def test_naive_datetime_is_utc(self) -> None:
        assert date_fr(datetime(2026, 8, 15, 22, 0)) == "16 août 2026 à 0 h 00"

    def test_paris_datetime_unchanged(self) -> None:
        paris = datetime(2026, 2, 3, 8, 45, tzinfo=ZoneInfo("Europe/Paris"))
        assert date_fr(paris) == "3 février 2026 à 8 h 45"

    def test_none(self) -> None:
        assert date_fr(None) == "—"


class TestNumberFr:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (41.9, "41,9"),
            (42.0, "42"),
            (0, "0"),
            (3.14159, "3,14"),
            (12345.5, f"12{NNBSP}345,5"),
            (1234567, f"1{NNBSP}234{NNBSP}567"),
            (-7.5, "-7,5"),
            ("8.25", "8,25"),
        ],
    )
    def test_default(self, value: Any, expected: str) -> None:
        assert number_fr(value) == expected

    @pytest.mark.parametrize(
        ("value", "decimals", "expected"),
        [
            (41.94, 1, "41,9"),
            (41.95, 1, "42,0"),
            (2.45, 1, "2,5"),
            (41.9, 2, "41,90"),
            (99.5, 0, "100"),
            (-3.25, 1, "-3,3"),
            (1000, 1, f"1{NNBSP}000,0"),
        ],
    )
    def test_decimals(self, value: float, decimals: int, expected: str) -> None:
        assert number_fr(value, decimals) == expected

    def test_none_and_nan(self) -> None:
        assert number_fr(None) == "—"
        assert number_fr(float("nan")) == "—"

    def test_filter_in_template(self) -> None:
        assert env.from_string("{{ 41.9|number_fr }} / {{ x|number_fr(1) }}").render(x=7) == (
            "41,9 / 7,0"
        )


class TestFiness:
    def test_display(self) -> None:
        assert finess("750000001") == "75 000 000 1"

    def test_corsica_and_spaces(self) -> None:
        assert finess(" 2a 000 1234 ") == "2A 000 123 4"

    def test_overseas(self) -> None:
        assert finess("970302287") == "97 030 228 7"

    def test_other_lengths_unchanged(self) -> None:
        assert finess("12345") == "12345"

    def test_none(self) -> None:
        assert finess(None) == "—"


class TestMarkdown:
    def test_basic(self) -> None:
        html = markdown("Un **DUI** est un *dossier*.\n\n- INS\n- MSSanté")
        assert html == (
            "<p>Un <strong>DUI</strong> est un <em>dossier</em>.</p>\n"
            "<ul>\n<li>INS</li>\n<li>MSSanté</li>\n</ul>\n"
        )
        assert isinstance(html, Markup)

    def test_raw_html_is_escaped(self) -> None:
        html = markdown('Texte <script>alert("x")</script> <b onclick="x()">gras</b>')
        assert "<script" not in html
        assert "<b " not in html
        assert "&lt;script&gt;" in html
        assert "&lt;b onclick=" in html

    def test_javascript_links_are_not_links(self) -> None:
        assert "href" not in markdown("[clic](javascript:alert(1))")

    def test_safe_link(self) -> None:
        assert markdown("[ANS](https://esante.gouv.fr)") == (
            '<p><a href="https://esante.gouv.fr">ANS</a></p>\n'
        )

    def test_empty(self) -> None:
        assert markdown(None) == ""
        assert markdown("") == ""


def test_state_marks_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `state_marks` setting (PALIER_STATE_MARKS), read through get_settings() when no
    request carries settings."""
    monkeypatch.delenv("PALIER_STATE_MARKS", raising=False)
    get_settings.cache_clear()
    assert template_globals()["state_marks"] is True
    for off in ("0", "false", "non", "off"):
        monkeypatch.setenv("PALIER_STATE_MARKS", off)
        get_settings.cache_clear()
        assert template_globals()["state_marks"] is False
    monkeypatch.setenv("PALIER_STATE_MARKS", "1")
    get_settings.cache_clear()
    assert template_globals()["state_marks"] is True
    get_settings.cache_clear()


# --- question partials -----------------------------------------------------------------------


@dataclass
class Opt:
    value: str
    label: str
    exclusive: bool = False


@dataclass
class Q:
    id: str
    type: str
    label: str
    help: str | None = None
    required: bool = False
    options: list[Opt] | None = None
    min: float | None = None
    max: float | None = None


def render_question(
    question: Q, value: Any = None, error: str | None = None, disabled: bool = False
) -> Tree:
    template = env.get_template("partials/questions/_question.html")
    html = template.render(question=question, value=value, error=error, disabled=disabled)
    return Tree(html)


THREE = [Opt("aucune", "Aucune"), Opt("adsl", "ADSL / cuivre"), Opt("fibre", "Fibre")]
SEVEN = [Opt(f"v{i}", f"Option {i}") for i in range(1, 8)]


class TestQuestionFieldMemo:
    """`question_field` memoises a field per question object, value, error and disabled state:
    each of them must change the field, the same four must give the memoised one."""

    def test_key_holds_value_error_and_disabled(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(env, "auto_reload", False)
        q = Q("memo_acces", "single_choice", "Quelle connexion ?", options=THREE)
        first = question_field(q, "adsl")
        assert question_field(q, "adsl") is first
        checked = [r.get("value") for r in Tree(first).find("input", type="radio")
                   if "checked" in r.attrs]
        assert checked == ["adsl"]
        other = Tree(question_field(q, "fibre"))
        assert [r.get("value") for r in other.find("input", type="radio")
                if "checked" in r.attrs] == ["fibre"]
        assert "Choisissez une réponse." not in first
        assert "Choisissez une réponse." in question_field(q, "adsl", "Choisissez une réponse.")
        assert "disabled" not in Tree(first).find("fieldset")[0].attrs
        assert "disabled" in Tree(question_field(q, "adsl", None, True)).find("fieldset")[0].attrs

    def test_same_texts_other_question_object_is_rendered_for_itself(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(env, "auto_reload", False)
        one = Q("memo_a", "single_choice", "Quelle connexion ?", options=THREE)
        two = Q("memo_b", "single_choice", "Quelle connexion ?", options=THREE)
        assert 'id="question-memo_a"' in question_field(one)
        assert 'id="question-memo_b"' in question_field(two)

    def test_not_memoised_in_development(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(env, "auto_reload", True)
        q = Q("memo_dev", "text", "Commentaire")
        first = question_field(q, "x")
        again = question_field(q, "x")
        assert again == first and again is not first


class TestSingleChoice:
    def test_three_options_are_radios_in_a_fieldset(self) -> None:
        q = Q("acces_internet", "single_choice", "Quelle connexion ?", options=THREE)
        tree = render_question(q)
        wrapper = tree.by_id("question-acces_internet")
        assert wrapper.get("class") == "palier-question"
        radios = tree.find("input", type="radio")
        assert [r.get("value") for r in radios] == ["aucune", "adsl", "fibre"]
        assert {r.get("name") for r in radios} == {"q_acces_internet"}
        assert all("checked" not in r.attrs for r in radios)  # none preselected
        assert tree.find("select") == []
        fieldset = tree.find("fieldset")[0]
        assert fieldset.children[0].tag == "legend"
        assert fieldset.children[0].all_text().strip() == "Quelle connexion ?"
        for radio in radios:
            label = tree.find("label", for_=radio.get("id") or "")
            assert len(label) == 1

    def test_current_value_checked(self) -> None:
        q = Q("acces_internet", "single_choice", "Quelle connexion ?", options=THREE)
        tree = render_question(q, value="adsl")
        checked = [r.get("value") for r in tree.find("input", type="radio") if "checked" in r.attrs]
        assert checked == ["adsl"]

    def test_seven_options_are_a_select(self) -> None:
        q = Q("logiciel", "single_choice", "Quel logiciel ?", options=SEVEN)
        tree = render_question(q, value="v3")
        assert tree.find("input", type="radio") == []
        select = tree.by_id("q_logiciel")
        assert select.tag == "select"
        assert select.get("name") == "q_logiciel"
        options = [c for c in select.children if c.tag == "option"]
        assert [o.get("value") for o in options] == ["", *[f"v{i}" for i in range(1, 8)]]
        assert [o.get("value") for o in options if "selected" in o.attrs] == ["v3"]
        assert tree.find("label", for_="q_logiciel")[0].all_text() == "Quel logiciel ?"

    def test_five_options_are_still_radios(self) -> None:
        q = Q("x", "single_choice", "X ?", options=SEVEN[:5])
        assert len(render_question(q).find("input", type="radio")) == 5

    def test_required_hint_and_error_wiring(self) -> None:
        q = Q(
            "acces_internet",
            "single_choice",
            "Quelle connexion ?",
            options=THREE,
            help="Voir le **contrat** <em>fournisseur</em>.",
            required=True,
        )
        tree = render_question(q, error="Choisissez une réponse.")
        fieldset = tree.by_id("q_acces_internet")
        assert "fr-fieldset--error" in (fieldset.get("class") or "")
        assert fieldset.get("aria-labelledby") == (
            "q_acces_internet-legend q_acces_internet-messages"
        )
        assert fieldset.get("aria-describedby") == "q_acces_internet-hint"
        legend = tree.by_id("q_acces_internet-legend")
        assert legend.all_text().strip() == "Quelle connexion ? (obligatoire)"
        hint = tree.by_id("q_acces_internet-hint")
        assert [c.tag for c in hint.children] == ["p"]
        assert hint.children[0].children[0].tag == "strong"
        assert "<em>fournisseur</em>" in hint.all_text()  # raw HTML shown as text
        messages = tree.by_id("q_acces_internet-messages")
        assert messages.all_text().strip() == "Choisissez une réponse."

    def test_disabled(self) -> None:
        q = Q("x", "single_choice", "X ?", options=THREE)
        tree = render_question(q, disabled=True)
        assert "disabled" in tree.by_id("q_x").attrs


class TestMultipleChoice:
    def test_checkboxes_with_repeated_name(self) -> None:
        opts = [Opt("aucun", "Aucun", exclusive=True), Opt("dui", "DUI"), Opt("mss", "MSSanté")]
        q = Q("outils", "multiple_choice", "Quels outils ?", options=opts)
        tree = render_question(q, value=["dui", "mss"])
        boxes = tree.find("input", type="checkbox")
        assert [b.get("name") for b in boxes] == ["q_outils"] * 3
        assert [b.get("value") for b in boxes if "checked" in b.attrs] == ["dui", "mss"]
        assert [b.get("value") for b in boxes if b.get("data-exclusive") == "true"] == ["aucun"]
        assert tree.find("fieldset")[0].children[0].tag == "legend"

    def test_no_value(self) -> None:
        q = Q("outils", "multiple_choice", "Quels outils ?", options=THREE)
        tree = render_question(q, value=None)
        assert all("checked" not in b.attrs for b in tree.find("input", type="checkbox"))


class TestNumber:
    def test_number_input_with_bounds(self) -> None:
        q = Q(
            "part_postes",
            "number",
            "Part des professionnels équipés (%)",
            min=0,
            max=100,
            help="Comptez les postes partagés.",
        )
        tree = render_question(q, value=41.9)
        field_ = tree.by_id("q_part_postes")
        assert field_.tag == "input"
        # A text input (type="number" lets Chromium turn « 62,5 » into 625), value in French.
        assert field_.attrs == {
            "class": "fr-input",
            "type": "text",
            "id": "q_part_postes",
            "name": "q_part_postes",
            "value": "41,9",
            "aria-describedby": "q_part_postes-hint q_part_postes-messages",
            "inputmode": "decimal",
            "autocomplete": "off",
            "spellcheck": "false",
        }
        label = tree.find("label", for_="q_part_postes")[0]
        assert label.all_text() == "Part des professionnels équipés (%)"
        hint = tree.by_id("q_part_postes-hint")
        assert [p.all_text() for p in hint.children] == [
            "Comptez les postes partagés.",
            "Nombre entre 0 et 100.",
        ]
        tree.by_id("q_part_postes-messages")

    def test_without_bounds_nor_help_there_is_no_hint(self) -> None:
        q = Q("nb", "number", "Nombre de places", required=True)
        tree = render_question(q, value=None, error="Saisissez un nombre.")
        field_ = tree.by_id("q_nb")
        assert "value" not in field_.attrs
        assert "min" not in field_.attrs
        assert field_.get("aria-describedby") == "q_nb-messages"
        assert field_.get("aria-invalid") == "true"
        assert field_.get("aria-required") == "true"
        assert tree.find("div", id="q_nb-hint") == []
        assert tree.by_id("q_nb-message-error").all_text() == "Saisissez un nombre."
        assert "fr-input-group--error" in (tree.by_id("q_nb-group").get("class") or "")
        assert tree.find("label", for_="q_nb")[0].all_text() == "Nombre de places (obligatoire)"

    def test_minimum_only(self) -> None:
        q = Q("nb", "number", "Nombre de places", min=1)
        assert tree_text(render_question(q).by_id("q_nb-hint")) == "Nombre supérieur ou égal à 1."


def tree_text(element: Element) -> str:
    return element.all_text().strip()


class TestText:
    def test_textarea(self) -> None:
        q = Q("commentaire", "text", "Commentaire", help="Facultatif.")
        tree = render_question(q, value="Projet <DUI> en cours")
        area = tree.by_id("q_commentaire")
        assert area.tag == "textarea"
        assert area.get("name") == "q_commentaire"
        assert area.all_text() == "Projet <DUI> en cours"
        assert area.get("aria-describedby") == "q_commentaire-hint q_commentaire-messages"


# --- pages rendered without the app ------------------------------------------------------------


@dataclass
class User:
    name: str
    email: str


def test_base_with_user_shows_name_and_logout_form() -> None:
    html = env.get_template("pages/home.html").render(
        current_user=User("Alice Martin", "alice@example.org"), csrf_token="tok-123"
    )
    tree = Tree(html)
    body = tree.find("body")[0]
    assert body.get("hx-headers") == '{"X-CSRF-Token": "tok-123"}'
    assert "Alice Martin" in html
    assert "Se connecter" not in html
    form = tree.find("form", action="/deconnexion")[0]
    assert form.get("method") == "post"
    hidden = [c for c in form.children if c.tag == "input"]
    assert hidden[0].attrs == {"type": "hidden", "name": "csrf_token", "value": "tok-123"}


def test_base_without_user_has_login_link() -> None:
    tree = Tree(env.get_template("pages/home.html").render())
    assert next(a.all_text() for a in tree.find("a", href="/connexion")) == "Se connecter"
    assert tree.find("body")[0].get("hx-headers") == '{"X-CSRF-Token": ""}'


def test_messages_and_breadcrumb() -> None:
    html = env.get_template("pages/accessibilite.html").render(
        messages=[{"level": "success", "text": "Enregistré."}, {"level": "error", "text": "Échec."}]
    )
    tree = Tree(html)
    alerts = [e for e in tree.elements if "fr-alert" in (e.get("class") or "").split()]
    assert [(a.get("role"), tree_text(a)) for a in alerts] == [
        ("status", "Enregistré."),
        ("alert", "Échec."),
    ]
    current = tree.find("a", aria_current="page")
    assert [tree_text(a) for a in current] == ["Déclaration d’accessibilité"]


def test_login_template() -> None:
    html = env.get_template("pages/login.html").render(
        csrf_token="tok",
        error="Adresse électronique ou mot de passe incorrect.",
        email="a@b.fr",
    )
    tree = Tree(html)
    form = tree.find("form", action="/connexion")[0]
    assert form.get("method") == "post"
    assert tree.find("input", type="hidden", name="csrf_token")[0].get("value") == "tok"
    email = tree.by_id("email")
    assert (email.get("type"), email.get("value"), email.get("autocomplete")) == (
        "email",
        "a@b.fr",
        "email",
    )
    assert tree.by_id("password-input").get("type") == "password"
    assert tree_text(tree.by_id("login-error")) == "Adresse électronique ou mot de passe incorrect."
    assert tree.by_id("login-error").get("role") == "alert"
    assert tree.find("a", href="/mot-de-passe-oublie")[0].all_text() == "Mot de passe oublié ?"


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (403, "Accès refusé"),
        (404, "Page introuvable"),
        (409, "Modification impossible"),
        (500, "Erreur inattendue"),
    ],
)
def test_error_page_titles(status: int, title: str) -> None:
    tree = Tree(env.get_template("pages/error.html").render(status=status))
    assert tree_text(tree.find("title")[0]) == f"{title} - Palier"
    assert tree_text(tree.find("h1")[0]) == title


def test_error_page_custom_message() -> None:
    html = env.get_template("pages/error.html").render(
        status=409, title="Autodiagnostic déjà soumis", message="Il ne peut plus être modifié."
    )
    assert "<h1>Autodiagnostic déjà soumis</h1>" in html
    assert "Il ne peut plus être modifié." in html


# --- render() ------------------------------------------------------------------------------------


def make_request(headers: dict[str, str] | None = None, **state: Any) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "state": dict(state),
    }
    return Request(scope)


def test_render_full_page_by_default() -> None:
    response = render(make_request(), "pages/home.html", {"tiers": []}, block_name="content")
    body = bytes(response.body).decode()
    assert body.startswith("<!doctype html>")
    assert response.headers["vary"] == "HX-Request"
    assert response.status_code == 200


def test_render_block_for_htmx() -> None:
    request = make_request({"HX-Request": "true"}, csrf_token="t")
    response = render(
        request, "pages/home.html", {"tiers": []}, block_name="content", status_code=422
    )
    body = bytes(response.body).decode()
    assert "<html" not in body
    assert "<h1>" in body
    assert response.status_code == 422
    assert response.headers["vary"] == "HX-Request"
    assert response.context["csrf_token"] == "t"  # type: ignore[attr-defined]


def test_render_htmx_without_block_is_full_page() -> None:
    response = render(make_request({"HX-Request": "true"}), "pages/home.html")
    assert "<html" in bytes(response.body).decode()


def test_render_reads_request_state() -> None:
    request = make_request(csrf_token="abc", user=User("Bob", "bob@example.org"))
    body = bytes(render(request, "pages/home.html").body).decode()
    assert '{"X-CSRF-Token": "abc"}' in body
    assert "Bob" in body
