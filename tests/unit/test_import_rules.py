"""The layering rule of docs/architecture.md, read from the source with `ast`:

- feature packages (and the shared modules beside them) never import `app.routes` or
  `app.web`: HTTP and display depend on the domain, never the reverse;
- `scoring/` never imports `app`;
- no import of `app` inside a function in `app/` (outside the CLI, whose commands import
  lazily to start fast): a cycle is broken by moving code, not hidden.

A failure names the offending file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_SIDE = ("app.routes", "app.web")
# May import app.routes / app.web: the web side itself, the wiring and the CLI (`palier serve`).
WEB_ALLOWED = ("app/routes/", "app/web/", "app/main.py", "app/cli/")


def _imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module, inside a function) for every import of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name, in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.lineno, child.module, in_function
                for alias in child.names:  # `from app import web`
                    yield child.lineno, f"{child.module}.{alias.name}", in_function
            yield from walk(child, inner)

    yield from walk(tree, False)


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_domain_never_imports_the_web_side() -> None:
    offending = [
        f"{_rel(path)}:{line}: imports {module}"
        for path in _files("app") if not _rel(path).startswith(WEB_ALLOWED)
        for line, module, _ in _imports(path)
        if any(_within(module, web) for web in WEB_SIDE)
    ]
    assert offending == [], "\n".join(offending)


def test_scoring_never_imports_app() -> None:
    offending = [
        f"{_rel(path)}:{line}: imports {module}"
        for path in _files("scoring")
        for line, module, _ in _imports(path)
        if _within(module, "app")
    ]
    assert offending == [], "\n".join(offending)


def test_no_function_level_imports_of_app() -> None:
    offending = [
        f"{_rel(path)}:{line}: imports {module} inside a function"
        for path in _files("app") if not _rel(path).startswith("app/cli/")
        for line, module, in_function in _imports(path)
        if in_function and _within(module, "app")
    ]
    assert offending == [], "\n".join(offending)


def test_the_rule_catches_an_offending_import(tmp_path: Path) -> None:
    """The checker itself: a web import, at module level and inside a function, is seen."""
    source = tmp_path / "bad.py"
    source.write_text("import app.web.templating\n\ndef f():\n    from app.routes import api\n")
    assert list(_imports(source)) == [
        (1, "app.web.templating", False),
        (4, "app.routes", True),
        (4, "app.routes.api", True),
    ]
