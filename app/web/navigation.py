"""The header navigation: one menu per role, the current entry marked from the path."""

from __future__ import annotations

from typing import Any

from app.permissions import Action, Actor, can, has_own_structures, structure_scope


def main_nav(actor: Actor | None, path: str) -> list[dict[str, Any]]:
    """Menu entries for the actor; `current` is set on the entry whose href prefixes path."""
    if actor is None:
        return []
    items: list[tuple[str, str]] = []
    if has_own_structures(actor):
        items.append(("/mes-structures", "Mes structures"))
    scope = structure_scope(actor)
    if can(actor, Action.view_dashboard):
        if scope.all:
            items.append(("/regions", "Régions"))
        elif scope.region:
            items += [(f"/regions/{scope.region}", "Tableau de bord"),
                      (f"/regions/{scope.region}/structures", "Structures")]
    if can(actor, Action.build_shortlist):
        items.append(("/selections", "Sélections"))
    if can(actor, Action.invite_director):
        items.append(("/invitations", "Invitations"))
    if can(actor, Action.import_structures):
        items.append(("/admin/structures/import", "Import FINESS"))
    if can(actor, Action.manage_users):
        items.append(("/admin/utilisateurs", "Utilisateurs"))
    if can(actor, Action.view_questionnaires_admin):
        items.append(("/admin/questionnaires", "Questionnaires"))
        items.append(("/admin/programmes", "Programmes"))
    if can(actor, Action.view_audit):
        items.append(("/admin/journal", "Journal"))
    # The longest matching href is the current one (/regions/84/structures over /regions/84).
    matches = [href for href, _ in items if path == href or path.startswith(href + "/")]
    current = max(matches, key=len, default=None)
    return [{"href": href, "text": text, "current": href == current} for href, text in items]


def crumbs(actor: Actor | None, *items: tuple[str, str]) -> list[dict[str, str]]:
    """A breadcrumb from the actor's home ("Mes structures" for a director, "Accueil" for
    anyone else) through `items` (text, href; href "" for the current page)."""
    first = ({"text": "Mes structures", "href": "/mes-structures"}
             if has_own_structures(actor) else {"text": "Accueil", "href": "/"})
    return [first, *({"text": t, "href": h} for t, h in items)]
