"""The largest functions and longest parameter lists of a package, read with ``ast``.

Usage: ``python scripts/code_metrics.py [PACKAGE_DIR] [--top N]`` (default ``harness``, 5).
Prints the N functions with the most lines (``def`` line to last line, decorators and
docstring included) and the N with the most parameters (positional, keyword-only and
``*args``/``**kwargs``; ``self``/``cls`` of methods not counted), each as
``count  path:line  qualified.name``. Nested functions count on their own and inside
their parent's lines.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FunctionSize:
    path: str
    line: int
    name: str
    """Qualified within its module: ``Class.method`` or ``outer.inner``."""
    lines: int
    params: int


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> int:
    a = fn.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    count = len(names) + (a.vararg is not None) + (a.kwarg is not None)
    is_static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    if in_class and not is_static and names[:1] and names[0].arg in ("self", "cls"):
        count -= 1
    return count


def functions(tree: ast.AST, path: str) -> Iterator[FunctionSize]:
    """Every function and method of ``tree`` with its size."""

    def walk(node: ast.AST, prefix: str, in_class: bool) -> Iterator[FunctionSize]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                name = prefix + child.name
                yield FunctionSize(path, child.lineno, name, end - first + 1, _params(child, in_class))
                yield from walk(child, name + ".", False)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".", True)
            else:
                yield from walk(child, prefix, in_class)

    yield from walk(tree, "", False)


def package_functions(root: Path) -> list[FunctionSize]:
    out: list[FunctionSize] = []
    for f in sorted(root.rglob("*.py")):
        out += functions(ast.parse(f.read_text(encoding="utf-8"), str(f)), str(f))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", nargs="?", default="harness")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)
    fns = package_functions(Path(args.package))
    for title, key in (("largest functions (lines)", "lines"), ("longest parameter lists", "params")):
        print(title)
        for f in sorted(fns, key=lambda f: (-getattr(f, key), f.path, f.line))[: args.top]:
            print(f"  {getattr(f, key):4d}  {f.path}:{f.line}  {f.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
