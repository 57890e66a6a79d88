"""Every audit action and object type recorded anywhere in app/ has a French label: the
source is read for the literal codes passed to `app.audit.record` / `record_now` (and to
`record_export`, and the demo's `"action": ...` rows)."""

from __future__ import annotations

import ast
from pathlib import Path

from app.web.audit_labels import ACTIONS, OBJECT_TYPES, action_label, object_type_label

APP = Path(__file__).resolve().parents[2] / "app"


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _keyword_literals(trees: list[ast.Module], name: str) -> set[str]:
    """String literals passed as `name=...` anywhere, or as the default of a `name` parameter."""
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == name \
                    and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
            if isinstance(node, ast.arguments):
                params = [*node.posonlyargs, *node.args]
                defaults = dict(zip(params[len(params) - len(node.defaults):], node.defaults,
                                    strict=True))
                defaults |= {a: d for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                             if d is not None}
                for arg, default in defaults.items():
                    if arg.arg == name and isinstance(default, ast.Constant):
                        found.add(default.value)
    return found


def _values(expr: ast.expr | None, constants: dict[str, str], trees: list[ast.Module],
            where: str) -> set[str | None]:
    if expr is None:
        return {None}
    if isinstance(expr, ast.Constant):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _values(expr.body, constants, trees, where) | \
            _values(expr.orelse, constants, trees, where)
    if isinstance(expr, ast.Name):
        if expr.id in constants:
            return {constants[expr.id]}
        passed = _keyword_literals(trees, expr.id)
        assert passed, f"{where}: cannot find the values of `{expr.id}`"
        return set(passed)
    raise AssertionError(f"{where}: an audit code that is not a literal: {ast.unparse(expr)}")


def recorded_codes() -> tuple[set[str], set[str]]:
    files = sorted(APP.rglob("*.py"))
    trees = [ast.parse(f.read_text(encoding="utf-8")) for f in files]
    actions: set[str | None] = set()
    objects: set[str | None] = set()
    for path, tree in zip(files, trees, strict=True):
        imported = {a.asname or a.name for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and n.module == "app.audit"
                    for a in n.names if a.name in ("record", "record_now")}
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                     for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(APP.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Dict):  # the demo's rows: {"action": "...", ...}
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value in ("action", "object_type") \
                            and isinstance(v, ast.Constant):
                        (actions if k.value == "action" else objects).add(v.value)
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else ""
            kw = {k.arg: k.value for k in node.keywords}
            if name in imported:
                args = node.args
                actions |= _values(args[2] if len(args) > 2 else kw.get("action"), constants,
                                   trees, where)
                objects |= _values(args[3] if len(args) > 3 else kw.get("object_type"),
                                   constants, trees, where)
            elif name == "record_export" and len(node.args) > 4 \
                    and isinstance(node.args[4], ast.Constant):
                objects.add(node.args[4].value)
            if isinstance(kw.get("object_type"), ast.Constant):
                objects.add(kw["object_type"].value)  # type: ignore[union-attr]
    return {a for a in actions if a}, {o for o in objects if o}


def test_every_recorded_action_and_object_type_has_a_french_label() -> None:
    actions, objects = recorded_codes()
    # the scan finds the codes it should (a sanity check written by hand)
    assert {"login", "login_failed", "mfa_failed", "draft_carried_over", "name_changed",
            "password_changed", "pat_created", "message", "campaign_reminder",
            "user_updated", "oidc_login", "export", "demo_loaded"} <= actions
    assert {"user", "assessment", "shortlist", "region", "api_token"} <= objects
    assert sorted(actions - ACTIONS.keys()) == []
    assert sorted(objects - OBJECT_TYPES.keys()) == []


def test_labels_are_french_and_unknown_codes_say_so() -> None:
    assert action_label("login_failed") == "Échec de connexion"
    assert action_label("submit") == "Évaluation transmise"
    assert object_type_label("shortlist") == "Sélection"
    assert object_type_label(None) == ""
    assert action_label("ancienne_action") == "Autre action (ancienne_action)"
    for label in [*ACTIONS.values(), *OBJECT_TYPES.values()]:
        assert "_" not in label and label[0].isupper()
