"""One shape for every service: the same rooms, one handlers table, one definition(), no untyped bag.

A newcomer who knows one service knows all four; these checks keep it so as the code grows.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from contracts.envelope import Envelope
from services.runtime.service import ServiceDefinition

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ROOT / "services"
CONSUMING = ("intake", "referral", "followup", "reporting")
# A room may be one module or, when its rules need several files, a package of the same name.
ROOMS = {"README.md", "__init__.py", "__main__.py", "app.py", "api.py", "domain", "handlers.py", "metrics.py",
         "settings.py", "store", "tasks.py", "migrations"}
CLOCK_ROOMS = {"README.md", "__init__.py", "__main__.py", "app.py", "domain", "settings.py", "tasks.py"}


def rooms_of(folder: Path) -> set[str]:
    names = set()
    for entry in folder.iterdir():
        if entry.name == "__pycache__":
            continue
        name = entry.name
        if name in ("domain.py", "store.py"):
            name = name[:-3]
        elif entry.is_dir() and f"{name}.py" in ROOMS:
            name = f"{name}.py"  # a room grown into a package of the same name (intake's api/)
        names.add(name)
    return names


@pytest.mark.parametrize("service", CONSUMING)
def test_every_consuming_service_has_the_same_rooms(service: str) -> None:
    assert rooms_of(SERVICES / service) == ROOMS


def test_the_clock_has_only_rooms_from_the_same_list() -> None:
    assert rooms_of(SERVICES / "clock") == CLOCK_ROOMS
    assert CLOCK_ROOMS <= ROOMS


@pytest.mark.parametrize("service", (*CONSUMING, "clock"))
def test_every_service_exports_definition(service: str) -> None:
    app = importlib.import_module(f"services.{service}.app")
    defn = app.definition()
    assert isinstance(defn, ServiceDefinition)
    assert defn.name == service


def test_default_ports_are_distinct() -> None:
    ports = [importlib.import_module(f"services.{s}.app").definition().default_port for s in (*CONSUMING, "clock")]
    assert len(set(ports)) == len(ports), ports


@pytest.mark.parametrize("service", CONSUMING)
def test_handlers_end_in_one_table_of_event_classes(service: str) -> None:
    source = (SERVICES / service / "handlers.py").read_text()
    last = ast.parse(source).body[-1]
    targets = [t.id for t in getattr(last, "targets", [])] or [getattr(getattr(last, "target", None), "id", None)]
    assert targets == ["HANDLERS"], f"services/{service}/handlers.py must end in the HANDLERS table"
    table = importlib.import_module(f"services.{service}.handlers").HANDLERS
    assert table and all(isinstance(k, type) and issubclass(k, Envelope) for k in table)
    assert all(callable(v) for v in table.values())


def test_no_untyped_dependency_bag_is_left() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (*SERVICES.rglob("*.py"), *(ROOT / "tests").rglob("*.py"))
                 if "ctx.extra" in p.read_text() and p.name != Path(__file__).name]
    assert offenders == []


@pytest.mark.parametrize("service", (*CONSUMING, "clock"))
def test_every_readme_opens_with_the_same_map(service: str) -> None:
    head = (SERVICES / service / "README.md").read_text().split("\n## ", 2)
    opening = "\n## ".join(head[:2]).lower()
    for word in ("consumes", "emits", "rules", "handlers"):
        assert word in opening, f"services/{service}/README.md should say what it {word} at the top"
