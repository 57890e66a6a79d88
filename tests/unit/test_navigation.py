"""The header menu per role (literal expectations)."""

from __future__ import annotations

from app.permissions import Actor, Role
from app.web.navigation import crumbs, main_nav


def hrefs(actor: Actor | None, path: str = "/") -> list[str]:
    return [i["href"] for i in main_nav(actor, path)]


def test_menus_per_role() -> None:
    assert hrefs(None) == []
    assert hrefs(Actor(1, Role.director, structure_ids=frozenset({1}))) == ["/mes-structures"]
    assert hrefs(Actor(2, Role.ars, region="84")) == [
        "/regions/84", "/regions/84/structures", "/selections", "/invitations",
        "/admin/structures/import"]
    assert hrefs(Actor(3, Role.committee, region=None)) == ["/regions", "/selections"]
    assert hrefs(Actor(4, Role.committee, region="11")) == [
        "/regions/11", "/regions/11/structures", "/selections"]
    assert hrefs(Actor(5, Role.admin)) == [
        "/regions", "/selections", "/invitations", "/admin/structures/import",
        "/admin/utilisateurs", "/admin/questionnaires", "/admin/programmes", "/admin/journal"]


def test_current_entry_is_the_longest_prefix() -> None:
    items = main_nav(Actor(2, Role.ars, region="84"), "/regions/84/structures")
    assert [i["href"] for i in items if i["current"]] == ["/regions/84/structures"]
    items = main_nav(Actor(2, Role.ars, region="84"), "/regions/84")
    assert [i["href"] for i in items if i["current"]] == ["/regions/84"]
    items = main_nav(Actor(2, Role.ars, region="84"), "/selectionsx")
    assert [i["href"] for i in items if i["current"]] == []


def test_crumbs_start_at_the_actor_home() -> None:
    director = Actor(1, Role.director, structure_ids=frozenset({1}))
    assert crumbs(director, ("Foyer Les Tilleuls", "/structures/840000001"), ("Résultat", "")) == [
        {"text": "Mes structures", "href": "/mes-structures"},
        {"text": "Foyer Les Tilleuls", "href": "/structures/840000001"},
        {"text": "Résultat", "href": ""}]
    for other in (None, Actor(2, Role.ars, region="84"), Actor(3, Role.committee),
                  Actor(5, Role.admin)):
        assert crumbs(other, ("Simulation", "")) == [
            {"text": "Accueil", "href": "/"}, {"text": "Simulation", "href": ""}]
