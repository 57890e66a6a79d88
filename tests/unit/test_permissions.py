"""The permission rules as a literal table (role x action x structure -> allowed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.permissions import (
    Action,
    Actor,
    Role,
    Scope,
    can,
    can_everywhere,
    can_in_region,
    can_on_structure,
    can_see_region,
    has_own_structures,
    import_region,
    import_scope,
    may_be_invited,
    needs_second_factor,
    speaks_to_owner,
    structure_scope,
    writes_for_region,
)

# Structure 1 is in region 84 (director A's), structure 2 in region 11 (director B's).
DIR_A = Actor(id=1, role=Role.director, structure_ids=frozenset({1}))
DIR_B = Actor(id=2, role=Role.director, structure_ids=frozenset({2}))
ARS_84 = Actor(id=3, role=Role.ars, region="84")
ARS_11 = Actor(id=4, role=Role.ars, region="11")
COM_84 = Actor(id=5, role=Role.committee, region="84")
COM_NAT = Actor(id=6, role=Role.committee, region=None)
ADMIN = Actor(id=7, role=Role.admin)
GONE = Actor(id=8, role=Role.admin, active=False)
ACTORS = {"anon": None, "dir_a": DIR_A, "dir_b": DIR_B, "ars_84": ARS_84, "ars_11": ARS_11,
          "com_84": COM_84, "com_nat": COM_NAT, "admin": ADMIN, "inactive": GONE}

V, F, R = Action.view_structure, Action.fill_assessment, Action.review_assessment
# actor -> (view s1, fill s1, review s1, view s2, fill s2, review s2)
ON_STRUCTURES = {
    "anon":     (0, 0, 0, 0, 0, 0),
    "dir_a":    (1, 1, 0, 0, 0, 0),
    "dir_b":    (0, 0, 0, 1, 1, 0),
    "ars_84":   (1, 0, 1, 0, 0, 0),
    "ars_11":   (0, 0, 0, 1, 0, 1),
    "com_84":   (1, 0, 0, 0, 0, 0),
    "com_nat":  (1, 0, 0, 1, 0, 0),
    "admin":    (1, 0, 1, 1, 0, 1),
    "inactive": (0, 0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("name", list(ON_STRUCTURES))
def test_structure_matrix(name: str) -> None:
    a = ACTORS[name]
    got = tuple(int(can_on_structure(a, act, sid, reg))
                for sid, reg in ((1, "84"), (2, "11")) for act in (V, F, R))
    assert got == ON_STRUCTURES[name]


# actor -> (dashboard, shortlist, import, manage users, audit)
GLOBAL = {
    "anon":     (0, 0, 0, 0, 0),
    "dir_a":    (0, 0, 0, 0, 0),
    "ars_84":   (1, 1, 1, 0, 0),
    "com_84":   (1, 1, 0, 0, 0),
    "com_nat":  (1, 1, 0, 0, 0),
    "admin":    (1, 1, 1, 1, 1),
    "inactive": (0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("name", list(GLOBAL))
def test_global_matrix(name: str) -> None:
    a = ACTORS[name]
    acts = (Action.view_dashboard, Action.build_shortlist, Action.import_structures,
            Action.manage_users, Action.view_audit)
    assert tuple(int(can(a, x)) for x in acts) == GLOBAL[name]


def test_scopes() -> None:
    assert structure_scope(None).empty
    assert structure_scope(DIR_A) == Scope(structure_ids=frozenset({1}))
    assert structure_scope(ARS_84) == Scope(region="84")
    assert structure_scope(COM_NAT) == Scope(all=True)
    assert structure_scope(Actor(id=9, role=Role.ars, region=None)).empty
    assert structure_scope(GONE).empty


def test_regions() -> None:
    assert [can_see_region(ACTORS[n], "84") for n in ACTORS] == [
        False, False, False, True, False, True, True, True, False]


# Structures import, invitations, corrections (issue 4).
# actor -> (import structures, invite a director, correct a structure,
#           invite to s1 (region 84), invite to s2 (region 11))
DIRECTORY = {
    "anon":     (0, 0, 0, 0, 0),
    "dir_a":    (0, 0, 0, 0, 0),
    "dir_b":    (0, 0, 0, 0, 0),
    "ars_84":   (1, 1, 0, 1, 0),
    "ars_11":   (1, 1, 0, 0, 1),
    "com_84":   (0, 0, 0, 0, 0),
    "com_nat":  (0, 0, 0, 0, 0),
    "admin":    (1, 1, 1, 1, 1),
    "inactive": (0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("name", list(DIRECTORY))
def test_directory_matrix(name: str) -> None:
    a = ACTORS[name]
    got = (
        int(can(a, Action.import_structures)),
        int(can(a, Action.invite_director)),
        int(can(a, Action.correct_structure)),
        int(can_on_structure(a, Action.invite_director, 1, "84")),
        int(can_on_structure(a, Action.invite_director, 2, "11")),
    )
    assert got == DIRECTORY[name]


# Invitations (issue 12): who may accept one (directors: it links structures to a director
# account), and whose structure rights reach every region rather than their own.
# actor -> (accept an invitation, invite to any region's structures, view any region's)
INVITATIONS = {
    "anon":     (0, 0, 0),
    "dir_a":    (1, 0, 0),
    "dir_b":    (1, 0, 0),
    "ars_84":   (0, 0, 0),
    "ars_11":   (0, 0, 0),
    "com_84":   (0, 0, 0),
    "com_nat":  (0, 0, 1),
    "admin":    (0, 1, 1),
    "inactive": (0, 0, 0),
}


@pytest.mark.parametrize("name", list(INVITATIONS))
def test_invitation_matrix(name: str) -> None:
    a = ACTORS[name]
    got = (
        int(can(a, Action.accept_invitation)),
        int(can_everywhere(a, Action.invite_director)),
        int(can_everywhere(a, Action.view_structure)),
    )
    assert got == INVITATIONS[name]


# How pages address the actor (issue 12: display decisions out of the routes).
# actor -> (has own structures ("Mes structures" home), speaks to the owner of s1, of s2,
#           the region their imports are confined to)
ADDRESSING = {
    "anon":     (0, 0, 0, None),
    "dir_a":    (1, 1, 0, None),
    "dir_b":    (1, 0, 1, None),
    "ars_84":   (0, 0, 0, "84"),
    "ars_11":   (0, 0, 0, "11"),
    "com_84":   (0, 0, 0, None),
    "com_nat":  (0, 0, 0, None),
    "admin":    (0, 0, 0, None),
    "inactive": (0, 0, 0, None),
}


@pytest.mark.parametrize("name", list(ADDRESSING))
def test_addressing_matrix(name: str) -> None:
    a = ACTORS[name]
    got = (
        int(has_own_structures(a)),
        int(speaks_to_owner(a, 1)),
        int(speaks_to_owner(a, 2)),
        import_region(a),
    )
    assert got == ADDRESSING[name]


def test_import_region_without_region() -> None:
    assert import_region(Actor(id=9, role=Role.ars, region=None)) is None


# Imports and campaigns (issue 12: scope decisions out of the services).
# actor -> (import scope: "all" / its region / None for nothing, run a campaign in 84, in 11)
REGIONAL_WORK = {
    "anon":     (None, 0, 0),
    "dir_a":    (None, 0, 0),
    "dir_b":    (None, 0, 0),
    "ars_84":   ("84", 1, 0),
    "ars_11":   ("11", 0, 1),
    "com_84":   (None, 0, 0),
    "com_nat":  (None, 0, 0),
    "admin":    ("all", 1, 1),
    "inactive": (None, 0, 0),
}


@pytest.mark.parametrize("name", list(REGIONAL_WORK))
def test_regional_work_matrix(name: str) -> None:
    a = ACTORS[name]
    scope = import_scope(a)
    got = (
        "all" if scope.all else scope.region,
        int(can_in_region(a, Action.run_campaign, "84")),
        int(can_in_region(a, Action.run_campaign, "11")),
    )
    assert got == REGIONAL_WORK[name]


def test_import_scope_without_region() -> None:
    assert import_scope(Actor(id=9, role=Role.ars, region=None)).empty


# A director's own structures (issue 12: no role test in the routes and services).
# actor -> ("Mes structures", invite a colleague, invite a colleague to s1, to s2, metrics)
OWN_STRUCTURES = {
    "anon":     (0, 0, 0, 0, 0),
    "dir_a":    (1, 1, 1, 0, 0),
    "dir_b":    (1, 1, 0, 1, 0),
    "ars_84":   (0, 0, 0, 0, 0),
    "ars_11":   (0, 0, 0, 0, 0),
    "com_84":   (0, 0, 0, 0, 0),
    "com_nat":  (0, 0, 0, 0, 0),
    "admin":    (0, 0, 0, 0, 1),
    "inactive": (0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("name", list(OWN_STRUCTURES))
def test_own_structures_matrix(name: str) -> None:
    a = ACTORS[name]
    got = (
        int(can(a, Action.view_own_structures)),
        int(can(a, Action.invite_colleague)),
        int(can_on_structure(a, Action.invite_colleague, 1, "84")),
        int(can_on_structure(a, Action.invite_colleague, 2, "11")),
        int(can(a, Action.view_metrics)),
    )
    assert got == OWN_STRUCTURES[name]


# Decisions on an account by its role (stored as text in the database).
# role -> (needs the second factor, may be invited, writes for the region in a thread)
BY_ROLE = {
    "director":  (0, 1, 0),
    "ars":       (1, 0, 1),
    "committee": (1, 0, 0),
    "admin":     (1, 0, 0),
}


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_by_role_matrix(role: str) -> None:
    got = (int(needs_second_factor(role)), int(may_be_invited(role)),
           int(writes_for_region(role)))
    assert got == BY_ROLE[role]
    assert got == (int(needs_second_factor(Role(role))), int(may_be_invited(Role(role))),
                   int(writes_for_region(Role(role))))


# Issue 12: the decisions above are the only ones made by role. Read app/ for comparisons
# of an actor's or a user's role (`actor.role == Role.ars`, `user.role != Role.director`);
# storing, listing or querying roles (`User.role == Role.ars.value` in SQL) is not a decision.
APP = Path(__file__).resolve().parents[2] / "app"
# Only a director's account has linked structures: loading them into the Actor, counting
# them in `palier users list`.
ROLE_COMPARISON_ALLOWED = {"app/accounts/auth.py", "app/cli/users.py"}


def _role_comparisons(source: str) -> list[int]:
    def of_someone(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "role"
                and isinstance(node.value, ast.Name) and node.value.id in {"actor", "user"})

    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Compare)
            and any(of_someone(x) for x in (node.left, *node.comparators))]


def test_no_role_comparison_outside_permissions() -> None:
    offending = [
        f"{path.relative_to(APP.parent).as_posix()}:{line}"
        for path in sorted(APP.rglob("*.py"))
        if path.relative_to(APP.parent).as_posix()
        not in {"app/permissions.py", *ROLE_COMPARISON_ALLOWED}
        for line in _role_comparisons(path.read_text())
    ]
    assert offending == [], "decide by role in app/permissions.py:\n" + "\n".join(offending)


def test_the_role_scan_catches_a_comparison() -> None:
    source = ("def f(actor, user, User):\n"
              "    a = actor.role == Role.ars\n"
              "    b = user.role not in PRIVILEGED\n"
              "    c = User.role == 'ars'\n"
              "    return writes_for_region(actor.role)\n")
    assert _role_comparisons(source) == [2, 3]
