"""Every service reads the same way (README, "One service shape"): ports at the root, a pure
domain, adapters, one composition root whose processes have start/stop/readiness, an app of a
few lines, routes that take Annotated dependencies, use cases that raise domain errors."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ["services/profiles", "services/search", "services/matching",
            "services/notifications", "gateway"]


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def python_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_the_one_layout(service):
    root = ROOT / service
    for part in ("ports.py", "bootstrap.py", "app.py", "api.py", "settings.py", "domain", "adapters"):
        assert (root / part).exists(), f"{service} has no {part}"
    assert not (root / "domain" / "ports.py").exists(), "ports live at the service root"


def members(cls: ast.ClassDef) -> set[str]:
    """Its methods and properties, and the attributes its methods set on self."""
    found = set()
    for item in cls.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.add(item.name)
            for node in ast.walk(item):
                if (isinstance(node, (ast.Assign, ast.AnnAssign))):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    found |= {t.attr for t in targets if isinstance(t, ast.Attribute)
                              and isinstance(t.value, ast.Name) and t.value.id == "self"}
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            found.add(item.target.id)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_bootstrap_builds_processes_with_start_stop_and_readiness(service):
    tree = parsed(ROOT / service / "bootstrap.py")
    classes = {node.name: members(node) for node in tree.body if isinstance(node, ast.ClassDef)}
    processes = {name for name, methods in classes.items()
                 if {"start", "stop", "readiness_checks"} <= methods}
    assert processes, f"{service}/bootstrap.py defines no process class with start/stop/readiness_checks"
    builders = [node for node in tree.body if isinstance(node, ast.FunctionDef)
                and node.name.startswith("build")]
    returned = {ast.unparse(node.returns).strip("'\"") for node in builders if node.returns}
    assert returned & processes, f"no build_* function of {service} returns a process class"


@pytest.mark.parametrize("service", SERVICES)
def test_nothing_is_wired_after_construction(service):
    """No `holder[...]` dicts and no `worker.group = group`: a collaborator is given to the
    constructor, or a callback at start()."""
    for path in python_files(ROOT / service):
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                assert node.value.id != "holder", f"{path}:{node.lineno} holder[...]"
        if path.name != "bootstrap.py":
            continue
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id != "self"):
                        pytest.fail(f"{path}:{node.lineno} wires {ast.unparse(target)} after construction")


@pytest.mark.parametrize("service", SERVICES)
def test_apps_use_the_shared_skeleton_and_routes_take_dependencies(service):
    root = ROOT / service
    apps = [root / "app.py"] + sorted(root.glob("*/app.py"))
    for app in apps:
        assert "create_process_app(" in app.read_text(), f"{app} does not use create_process_app"
    for path in python_files(root):
        assert "app.state" not in path.read_text(), (
            f"{path} reaches into app.state: take an Annotated dependency")


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_and_domains_raise_domain_errors_not_http_errors(service):
    root = ROOT / service
    use_cases = python_files(root / "domain")
    for name in ("service.py", "service"):
        if (root / name).exists():
            use_cases += python_files(root / name)
    for path in use_cases:
        text = path.read_text()
        for http_error in ("ApiError", "HTTPException"):
            assert http_error not in text, f"{path} raises {http_error}: raise a domain error"
