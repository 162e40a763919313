"""JSON schemas of every event type and version, and the compatibility rules the contract test uses.

`python -m platform_common.events.schemas` writes them into `contracts/events/`.
A schema of a published version may only grow (new optional fields); removing a field,
making a field required or changing its type needs a new version with an upcaster.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from platform_common.events.envelope import Envelope
from platform_common.events.registry import EVENT_TYPES

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts" / "events"


def current_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON schema, for the envelope and every (type, version)."""
    schemas = {"envelope.json": Envelope.model_json_schema()}
    for spec in EVENT_TYPES.values():
        schemas[f"{spec.name}.v{spec.version}.json"] = spec.model.model_json_schema()
        for version, model in spec.old_models.items():
            schemas[f"{spec.name}.v{version}.json"] = model.model_json_schema()
    return schemas


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = root.get("$defs", {}).get(name, {})
    return schema


def _type_of(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return sorted(json.dumps(_type_of(option, root), sort_keys=True) for option in schema["anyOf"])
    if "enum" in schema:
        return {"enum": sorted(map(str, schema["enum"]))}
    if "const" in schema:
        return {"enum": [str(schema["const"])]}
    return schema.get("type", "object")


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "",
                     old_root: dict | None = None, new_root: dict | None = None) -> list[str]:
    """What a consumer of `old` would trip over in `new` (empty when compatible)."""
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_field in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"field '{where}' was removed")
            continue
        new_field = new_props[name]
        old_type, new_type = _type_of(old_field, old_root), _type_of(new_field, new_root)
        if isinstance(old_type, dict) and isinstance(new_type, dict) and "enum" in old_type:
            removed = set(old_type["enum"]) - set(new_type.get("enum", []))
            if removed:
                problems.append(f"field '{where}' lost allowed values {sorted(removed)}")
        elif old_type != new_type:
            problems.append(f"field '{where}' changed type from {old_type} to {new_type}")
        if _resolve(old_field, old_root).get("properties") is not None:
            problems += breaking_changes(old_field, new_field, where, old_root, new_root)
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"field '{path + '.' if path else ''}{name}' became required")
    return problems


def write_schemas(target: Path = CONTRACTS_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in sorted(current_schemas().items()):
        path = target / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_schemas():
        print(f"wrote {written_path.relative_to(Path.cwd()) if written_path.is_relative_to(Path.cwd()) else written_path}")
    sys.exit(0)
