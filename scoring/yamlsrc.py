"""Read YAML into plain Python data that remembers where each node came from.

PyYAML's composer gives every node a start mark; we build dicts and lists that keep the
positions of their keys and values so that the validator can point at the offending node.
"""

from __future__ import annotations

from typing import Any

import yaml

from scoring.errors import Loc, SourceError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader when libyaml is there


class LMap(dict[str, Any]):
    """A mapping with the location of itself, of each key and of each value."""

    loc: Loc
    key_loc: dict[str, Loc]
    val_loc: dict[str, Loc]


class LList(list[Any]):
    """A sequence with the location of itself and of each item."""

    loc: Loc
    item_loc: list[Loc]


def _loc(node: yaml.Node) -> Loc:
    return Loc(node.start_mark.line + 1, node.start_mark.column + 1)


_NO_ALIAS = ("ancres et alias YAML (& et *) refusés : le format n'en a pas besoin, "
             "écrivez chaque valeur en entier")


def _anchors(text: str, file: str) -> list[SourceError]:
    """Every anchor and alias of the document, refused before anything is built.

    Expanding aliases is how a small file becomes gigabytes ("billion laughs") or an
    endless recursion (`a: &a [*a]`); the questionnaire format never needs them.
    """
    errors: list[SourceError] = []
    for event in yaml.parse(text, Loader=_Loader):
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            continue
        kind = "alias « *" if isinstance(event, yaml.AliasEvent) else "ancre « &"
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        errors.append(SourceError(file, line, col, f"{kind}{anchor} » : {_NO_ALIAS}"))
        if len(errors) >= 20:  # enough to show the problem; the rest is the same
            break
    return errors


def load_located(text: str, file: str) -> tuple[Any, Loc, list[SourceError]]:
    """Parse `text`; return (data, root location, errors). A syntax error comes alone;
    anchors and aliases are refused before the document is built."""
    try:
        refused = _anchors(text, file)
        if refused:
            return None, Loc(1, 1), refused
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "erreur"
        return None, Loc(1, 1), [SourceError(file, line, col, f"YAML invalide : {problem}")]
    except yaml.YAMLError as exc:
        return None, Loc(1, 1), [SourceError(file, 1, 1, f"YAML invalide : {exc}")]
    except RecursionError:
        return None, Loc(1, 1), [SourceError(file, 1, 1, _TOO_DEEP)]
    if root is None:
        return None, Loc(1, 1), []
    errors: list[SourceError] = []
    constructor = _Loader("")  # only used to resolve scalars (int, float, bool, null, str)
    try:
        data = _build(root, constructor, file, errors)
    except RecursionError:
        return None, Loc(1, 1), [SourceError(file, 1, 1, _TOO_DEEP)]
    finally:
        constructor.dispose()
    return data, _loc(root), errors


_TOO_DEEP = "YAML invalide : imbrication trop profonde"


def _build(node: yaml.Node, cons: Any, file: str, errors: list[SourceError]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LMap()
        out.loc, out.key_loc, out.val_loc = _loc(node), {}, {}
        for key_node, val_node in node.value:
            key = _build(key_node, cons, file, errors)
            kloc = _loc(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                line, col = kloc
                errors.append(SourceError(file, line, col, f"clé « {key} » répétée"))
                continue
            out[key] = _build(val_node, cons, file, errors)
            out.key_loc[key] = kloc
            out.val_loc[key] = _loc(val_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList()
        seq.loc, seq.item_loc = _loc(node), []
        for item in node.value:
            seq.append(_build(item, cons, file, errors))
            seq.item_loc.append(_loc(item))
        return seq
    try:
        return cons.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # e.g. an unknown tag (!foo) or a bad timestamp
        line, col = _loc(node)
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(SourceError(file, line, col, f"YAML invalide : {problem}"))
        return None


_NOWHERE = Loc(0, 0)


def to_located(data: Any) -> Any:
    """Wrap plain dicts and lists as LMap/LList without positions (for re-checking)."""
    if isinstance(data, dict):
        out = LMap()
        out.loc, out.key_loc, out.val_loc = _NOWHERE, {}, {}
        for k, v in data.items():
            out[k] = to_located(v)
            out.key_loc[k] = out.val_loc[k] = _NOWHERE
        return out
    if isinstance(data, list | tuple):
        seq = LList(to_located(v) for v in data)
        seq.loc, seq.item_loc = _NOWHERE, [_NOWHERE] * len(seq)
        return seq
    return data
