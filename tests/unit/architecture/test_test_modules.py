"""Suites of several directories can be collected in one pytest run.

Outside a package, pytest puts a test file's directory on sys.path and imports its modules by their bare
name. Every conftest.py is then the module "conftest", so a test importing helpers from "conftest" gets the
conftest of whichever directory was loaded last: it passes alone and breaks when two suites run together.
Helpers live in plainly named modules instead, and those names must not repeat across tests/.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]


def conftest_imports(source: str) -> list[int]:
    """Lines of `source` importing a module named conftest by its bare name (or relatively)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "conftest" for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] == "conftest":
                lines.append(node.lineno)
            elif node.level > 0 and (module.split(".")[0] == "conftest"
                                     or (not module and any(a.name == "conftest" for a in node.names))):
                lines.append(node.lineno)
    return lines


def modules_outside_packages() -> list[Path]:
    """Modules imported by bare name: .py files of tests/ in a directory that is not a package."""
    return [path for path in TESTS.rglob("*.py")
            if path.name not in ("conftest.py", "__init__.py") and "__pycache__" not in path.parts
            and not (path.parent / "__init__.py").exists()]


def test_the_finder_sees_every_way_of_importing_conftest() -> None:
    source = ("import os\nfrom conftest import registration\nimport conftest\nfrom conftest.sub import x\n"
              "from . import conftest\nfrom .conftest import y\nfrom tests.browser.conftest import screenshot\n"
              "from intake_harness import registration\n")
    assert conftest_imports(source) == [2, 3, 4, 5, 6]


def test_no_module_of_the_tests_imports_conftest_by_name() -> None:
    offenders = [f"{path.relative_to(TESTS.parent)}:{line}"
                 for path in sorted(TESTS.rglob("*.py")) if "__pycache__" not in path.parts
                 for line in conftest_imports(path.read_text(encoding="utf-8"))]
    assert offenders == [], "import helpers from a plainly named module beside the conftest, not from conftest"


def test_modules_imported_by_bare_name_have_unique_names() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in modules_outside_packages():
        by_name[path.stem].append(str(path.relative_to(TESTS.parent)))
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
