"""The one place that answers "may this user do this to that?" and "which structures may
this user see?". Rules are pure functions of an Actor; services translate the scope to SQL.

Deny by default. A record outside the actor's scope is reported as absent (404) by the
callers, never as forbidden, so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    director = "director"
    ars = "ars"
    committee = "committee"
    admin = "admin"


class Action(StrEnum):
    view_structure = "view_structure"  # its page, assessments, results, PDF
    fill_assessment = "fill_assessment"  # start, save, submit a draft
    review_assessment = "review_assessment"  # mark validée / à revoir
    view_dashboard = "view_dashboard"  # regional figures and lists
    build_shortlist = "build_shortlist"
    export_region = "export_region"
    import_structures = "import_structures"
    invite_director = "invite_director"
    manage_users = "manage_users"
    view_audit = "view_audit"
    view_questionnaires_admin = "view_questionnaires_admin"
    correct_structure = "correct_structure"  # fix category, capacity, department (admin)
    # A draft's answers, evidence and notes: the director's working space. ARS referents
    # and committees see that a draft exists and its progress, not its content.
    read_draft = "read_draft"
    # The message thread of a submitted assessment: its directors and its region's ARS only.
    message_assessment = "message_assessment"
    run_campaign = "run_campaign"  # open campaigns for one's region, remind late structures
    # Accept an invitation addressed to one's own account: directors only (an invitation
    # links structures to a director account).
    accept_invitation = "accept_invitation"
    # Invite a colleague to one of one's own structures (they become one of its directors).
    invite_colleague = "invite_colleague"
    view_own_structures = "view_own_structures"  # "Mes structures": those linked to one's account
    view_metrics = "view_metrics"  # the Prometheus metrics (operations)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: built from the logged-in user (or None for anonymous)."""

    id: int
    role: Role
    region: str | None = None
    structure_ids: frozenset[int] = field(default_factory=frozenset)
    active: bool = True


@dataclass(frozen=True, slots=True)
class Scope:
    """The structures an actor may see: all, one region, or a set of ids (maybe empty)."""

    all: bool = False
    region: str | None = None
    structure_ids: frozenset[int] | None = None

    @property
    def empty(self) -> bool:
        return not self.all and self.region is None and not self.structure_ids


NOTHING = Scope(structure_ids=frozenset())

# Actions on the structures linked to one's own account: directors only (admins have no
# structures of their own).
OWN_ACCOUNT: frozenset[Action] = frozenset({Action.accept_invitation, Action.invite_colleague,
                                            Action.view_own_structures})

# Actions that do not concern one structure, by role.
GLOBAL_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.director: OWN_ACCOUNT,
    Role.ars: frozenset({Action.view_dashboard, Action.build_shortlist, Action.export_region,
                         Action.import_structures, Action.invite_director,
                         Action.run_campaign}),
    Role.committee: frozenset({Action.view_dashboard, Action.build_shortlist}),
    Role.admin: frozenset(Action) - OWN_ACCOUNT,
}

# Actions on one structure, by role (given the structure is in the actor's scope).
STRUCTURE_RIGHTS: dict[Role, frozenset[Action]] = {
    Role.director: frozenset({Action.view_structure, Action.fill_assessment,
                              Action.read_draft, Action.message_assessment,
                              Action.invite_colleague}),
    Role.ars: frozenset({Action.view_structure, Action.review_assessment,
                         Action.invite_director, Action.message_assessment}),
    Role.committee: frozenset({Action.view_structure}),
    Role.admin: frozenset({Action.view_structure, Action.review_assessment,
                           Action.invite_director, Action.read_draft}),
}


def structure_scope(actor: Actor | None) -> Scope:
    """Which structures the actor may see."""
    if actor is None or not actor.active:
        return NOTHING
    if actor.role == Role.admin:
        return Scope(all=True)
    if actor.role == Role.ars:
        return Scope(region=actor.region) if actor.region else NOTHING
    if actor.role == Role.committee:
        return Scope(region=actor.region) if actor.region else Scope(all=True)
    return Scope(structure_ids=actor.structure_ids)


def in_scope(actor: Actor | None, structure_id: int, structure_region: str) -> bool:
    scope = structure_scope(actor)
    if scope.all:
        return True
    if scope.region is not None:
        return structure_region == scope.region
    return scope.structure_ids is not None and structure_id in scope.structure_ids


def can(actor: Actor | None, action: Action) -> bool:
    """An action that concerns no particular structure."""
    if actor is None or not actor.active:
        return False
    return action in GLOBAL_RIGHTS[actor.role]


def can_on_structure(actor: Actor | None, action: Action, structure_id: int,
                     structure_region: str) -> bool:
    """An action on one structure: the role allows it and the structure is in scope."""
    if actor is None or not actor.active:
        return False
    if action not in STRUCTURE_RIGHTS[actor.role]:
        return False
    return in_scope(actor, structure_id, structure_region)


def can_everywhere(actor: Actor | None, action: Action) -> bool:
    """An action on structures granted in every region (admins; national committees for
    viewing), not only within one's own."""
    return (actor is not None and actor.active and action in STRUCTURE_RIGHTS[actor.role]
            and structure_scope(actor).all)


def can_read_assessment(actor: Actor | None, structure_id: int, structure_region: str, *,
                        submitted: bool) -> bool:
    """The content of an assessment (answers, evidence, notes, result, print, PDF): a
    submitted one for whoever sees the structure; a draft only for its directors (and
    admins). Out of scope is NotFound for callers; in scope but a hidden draft, Forbidden."""
    if not can_on_structure(actor, Action.view_structure, structure_id, structure_region):
        return False
    return submitted or can_on_structure(actor, Action.read_draft, structure_id,
                                         structure_region)


def can_see_region(actor: Actor | None, region: str) -> bool:
    """Regional figures: admins and national committees everywhere, others their region."""
    scope = structure_scope(actor)
    if actor is None or actor.role == Role.director:
        return False
    return scope.all or scope.region == region


def can_in_region(actor: Actor | None, action: Action, region: str) -> bool:
    """A global action carried out for one region (running a campaign there): the role
    allows it and the region is the actor's own, or any region for those who see all."""
    return can(actor, action) and can_see_region(actor, region)


def import_scope(actor: Actor | None) -> Scope:
    """Where the actor's structure imports reach, and whose import jobs they follow: every
    region for an admin, an ARS referent's own region; nothing for anybody else (nor for a
    referent without a region)."""
    if actor is None or not can(actor, Action.import_structures):
        return NOTHING
    if actor.role == Role.admin:
        return Scope(all=True)
    if actor.role == Role.ars and actor.region:
        return Scope(region=actor.region)
    return NOTHING


def can_write_structure(actor: Actor | None, current_region: str | None,
                        new_region: str) -> bool:
    """Create (`current_region` None) or change a structure of the directory.

    An admin anywhere; an ARS referent (importing) only a structure that is in their region
    and stays there, so a file never moves another region's structure into theirs; nobody
    else. Callers skip the line (import) or answer as for an absent structure.
    """
    if actor is None or not actor.active:
        return False
    if actor.role == Role.admin:
        return True
    if actor.role == Role.ars and actor.region:
        return new_region == actor.region and current_region in (None, actor.region)
    return False


# ---- how pages address the actor (display decisions that depend on the role) ----------------


def has_own_structures(actor: Actor | None) -> bool:
    """The actor works on structures linked to their account (a director): their home is
    "Mes structures" and lists speak of "your" structures; everyone else reads structures
    they may consult, from the home page."""
    return actor is not None and actor.role == Role.director


def speaks_to_owner(actor: Actor | None, structure_id: int) -> bool:
    """A structure's pages address the actor as its director ("Votre palier") rather than
    speak neutrally of "la structure" (ARS referents, committees, admins)."""
    return (actor is not None and has_own_structures(actor)
            and structure_id in actor.structure_ids)


def import_region(actor: Actor | None) -> str | None:
    """The one region the actor's structure imports are confined to (an ARS referent's own),
    or None: an admin imports everywhere, and nobody else imports."""
    return import_scope(actor).region


def writes_for_region(role: Role | str) -> bool:
    """A message of an assessment's thread written with this role speaks for the region's ARS
    (an ARS referent's) rather than for the structure's direction."""
    return role == Role.ars


# ---- accounts (decisions on a user's account that depend on its role) -----------------------


def needs_second_factor(role: Role | str) -> bool:
    """Accounts of this role always need the second factor to log in with a password
    (issue 13: ASVS level 2): ARS referents, committees, admins; directors may opt in."""
    return Role(role) in {Role.ars, Role.committee, Role.admin}


def may_be_invited(role: Role | str) -> bool:
    """An existing account of this role may receive an invitation (to direct structures):
    those who may accept one, i.e. director accounts."""
    return Action.accept_invitation in GLOBAL_RIGHTS[Role(role)]
