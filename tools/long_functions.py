"""List functions longer than a limit (default 60 lines) in the given packages, with whether a
reason is written at their top (a comment starting with "# Long" right under the signature).

    python tools/long_functions.py [--limit 60] app scoring
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path
from typing import NamedTuple

LIMIT = 60
LONG = re.compile(r"#\s*Long\b")


class LongFunction(NamedTuple):
    file: str
    line: int
    name: str
    length: int
    reason: bool  # a "# Long" comment right under the signature


def long_functions(paths: list[str], limit: int = LIMIT) -> list[LongFunction]:
    found = []
    for root in paths:
        for file in sorted(Path(root).rglob("*.py")):
            source = file.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > limit:
                        body_top = "\n".join(lines[node.lineno - 1:node.body[0].lineno + 2])
                        found.append(LongFunction(str(file), node.lineno, node.name, length,
                                                  bool(LONG.search(body_top))))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=LIMIT)
    parser.add_argument("paths", nargs="*", default=["app", "scoring"])
    args = parser.parse_args()
    for file, line, name, length, reason in long_functions(args.paths, args.limit):
        print(f"{file}:{line}: {name} ({length} lines){'' if reason else '  NO REASON'}")


if __name__ == "__main__":
    main()
