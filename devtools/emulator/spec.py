"""Validation of Bot API calls against the machine-readable specification.

The specification is the flattened JSON (``flat-10.2.json``)::

    {"methods": {name: {"params": {p: {"type": str, "required": bool}}, "returns": [...]}},
     "types":   {name: {"fields": {f: {"type": str, "required": bool}}}}}

Type strings are ``Integer``, ``String``, ``Boolean``, ``Float``, ``True``, ``InputFile``,
object type names, ``Array of X`` (nestable) and alternatives (``X or Y``, and
``A, B and C`` inside arrays).  Abstract types such as ``BotCommandScope`` or ``MenuButton``
have no fields in the flat spec; a value of such a type is matched to its concrete subtype by
its ``type`` field (``{"type": "chat"}`` -> ``BotCommandScopeChat``).

The file is only read by :func:`load_spec`, never at import time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "STRING_TYPES",
    "FieldSpec",
    "SpecValidator",
    "decode_wire_value",
    "json_kind",
    "load_spec",
]

#: Parameter types whose wire value is raw text (never JSON-decoded).
STRING_TYPES = frozenset({"String", "InputFile or String", "InputFile"})

_PRIMITIVES = frozenset(
    {"Integer", "String", "Boolean", "Float", "Float number", "True", "InputFile"}
)
_ALTERNATIVE_SPLIT = re.compile(r" or |, | and ")
_ARRAY_PREFIX = "Array of "
_DISCRIMINATORS = frozenset({"type", "source"})


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or field of a type."""

    type: str
    required: bool


def json_kind(value: Any) -> str:
    """A short JSON-ish name of a value's kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def decode_wire_value(raw: str, type_str: str | None) -> Any:
    """Decode one form field the way Telegram does.

    Parameters typed ``String`` keep the raw text; everything else was JSON-encoded by the
    client (``5``, ``true``, ``{"inline_keyboard": ...}``).  Text that is not valid JSON is
    kept as a string, so that the type check can report it.
    """
    if type_str in STRING_TYPES:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _split_alternatives(type_str: str) -> list[str]:
    return [part.strip() for part in _ALTERNATIVE_SPLIT.split(type_str) if part.strip()]


def _camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


class SpecValidator:
    """Validates Bot API method calls against the flat specification."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Build a validator from the parsed ``flat-*.json`` document."""
        self.version: str | None = data.get("version")
        self._methods: dict[str, tuple[str, dict[str, FieldSpec]]] = {}
        for name, body in data.get("methods", {}).items():
            params = {
                p: FieldSpec(str(f["type"]), bool(f["required"]))
                for p, f in body.get("params", {}).items()
            }
            self._methods[name.lower()] = (name, params)
        self._types: dict[str, dict[str, FieldSpec]] = {
            name: {
                f: FieldSpec(str(s["type"]), bool(s["required"]))
                for f, s in body.get("fields", {}).items()
            }
            for name, body in data.get("types", {}).items()
        }
        self._subtypes_cache: dict[str, list[str]] = {}

    # -- lookups -----------------------------------------------------------------
    @property
    def method_names(self) -> list[str]:
        """All method names (canonical camelCase)."""
        return sorted(name for name, _ in self._methods.values())

    def canonical_method(self, method: str) -> str | None:
        """The spec's spelling of ``method`` (case-insensitive lookup), or None if unknown."""
        found = self._methods.get(method.lower())
        return found[0] if found else None

    def has_method(self, method: str) -> bool:
        """True if the method exists (case-insensitively)."""
        return method.lower() in self._methods

    def method_params(self, method: str) -> dict[str, FieldSpec]:
        """Parameters of a method (empty if unknown)."""
        found = self._methods.get(method.lower())
        return dict(found[1]) if found else {}

    def param_type(self, method: str, param: str) -> str | None:
        """Type string of one parameter, or None if the method or parameter is unknown."""
        found = self._methods.get(method.lower())
        if not found or param not in found[1]:
            return None
        return found[1][param].type

    def type_fields(self, type_name: str) -> dict[str, FieldSpec] | None:
        """Fields of an object type, or None if the type is unknown."""
        fields = self._types.get(type_name)
        return dict(fields) if fields is not None else None

    def subtypes(self, abstract: str) -> list[str]:
        """Concrete subtypes of an abstract (field-less) type, e.g. ``BotCommandScopeChat``."""
        if abstract not in self._subtypes_cache:
            self._subtypes_cache[abstract] = sorted(
                name
                for name, fields in self._types.items()
                if name != abstract and name.startswith(abstract) and "type" in fields
            )
        return self._subtypes_cache[abstract]

    # -- validation --------------------------------------------------------------
    def validate_call(self, method: str, params: Mapping[str, Any]) -> list[str]:
        """Problems with a call: unknown method/params, missing required params, wrong types.

        ``params`` are already JSON-decoded.  Every problem is prefixed with the method name.
        """
        found = self._methods.get(method.lower())
        if found is None:
            return [f"{method}: unknown method"]
        _, spec_params = found
        problems: list[str] = []
        for name, spec in spec_params.items():
            if spec.required and name not in params:
                problems.append(f"{method}: {name}: required parameter is missing")
        for name, value in params.items():
            param = spec_params.get(name)
            if param is None:
                problems.append(f"{method}: {name}: unknown parameter")
                continue
            problems.extend(
                f"{method}: {msg}" for msg in self.validate_value(param.type, value, name)
            )
        return problems

    def validate_value(self, type_str: str, value: Any, path: str = "value") -> list[str]:
        """Problems with one value of the given spec type string ("" list means valid)."""
        type_str = type_str.strip()
        if type_str.startswith(_ARRAY_PREFIX):
            if not isinstance(value, list):
                return [f"{path}: expected {type_str}, got {json_kind(value)}"]
            inner = type_str[len(_ARRAY_PREFIX) :]
            problems: list[str] = []
            for index, item in enumerate(value):
                problems.extend(self.validate_value(inner, item, f"{path}[{index}]"))
            return problems
        alternatives = _split_alternatives(type_str)
        if len(alternatives) == 1:
            return self._validate_single(alternatives[0], value, path)
        return self._validate_union(type_str, alternatives, value, path)

    def _validate_union(
        self, type_str: str, alternatives: list[str], value: Any, path: str
    ) -> list[str]:
        discriminated: list[str] = []
        if isinstance(value, Mapping) and isinstance(value.get("type"), str):
            suffix = _camel(value["type"])
            discriminated = [alt for alt in alternatives if alt.endswith(suffix)]
        best: list[str] | None = None
        for alternative in discriminated + [a for a in alternatives if a not in discriminated]:
            if not self._kind_matches(alternative, value):
                continue
            if discriminated and alternative not in discriminated and best is not None:
                continue  # report against the alternative the "type" field names
            problems = self.validate_value(alternative, value, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        if best is None:
            return [f"{path}: expected {type_str}, got {json_kind(value)}"]
        return best

    def _kind_matches(self, type_str: str, value: Any) -> bool:
        """Whether the value has the right JSON kind for the type (ignoring its contents)."""
        if type_str.startswith(_ARRAY_PREFIX):
            return isinstance(value, list)
        if type_str in _PRIMITIVES:
            return not self._validate_single(type_str, value, "")
        return isinstance(value, Mapping) or type_str not in self._types

    def _validate_single(self, type_name: str, value: Any, path: str) -> list[str]:
        mismatch = [f"{path}: expected {type_name}, got {json_kind(value)}"]
        if type_name == "Integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else mismatch
        if type_name in ("Float", "Float number"):
            return (
                [] if isinstance(value, (int, float)) and not isinstance(value, bool) else mismatch
            )
        if type_name == "String":
            return [] if isinstance(value, str) else mismatch
        if type_name == "Boolean":
            return [] if isinstance(value, bool) else mismatch
        if type_name == "True":
            return [] if value is True else [f"{path}: expected True, got {json.dumps(value)}"]
        if type_name == "InputFile":
            if isinstance(value, str) and value.startswith("attach://"):
                return []
            return [
                f"{path}: expected InputFile (an uploaded file, attach://<name>), got {json_kind(value)}"
            ]
        fields = self._types.get(type_name)
        if fields is None:
            return []  # a type the spec does not describe: nothing to check
        if not isinstance(value, Mapping):
            return mismatch
        if not fields:
            return self._validate_abstract(type_name, value, path)
        return self._validate_fields(type_name, fields, value, path)

    def _validate_fields(
        self,
        type_name: str,
        fields: Mapping[str, FieldSpec],
        value: Mapping[str, Any],
        path: str,
    ) -> list[str]:
        problems: list[str] = []
        for name, spec in fields.items():
            if spec.required and name not in value:
                problems.append(f"{path}.{name}: required field of {type_name} is missing")
        for name, item in value.items():
            field_spec = fields.get(name)
            if field_spec is None:
                problems.append(f"{path}.{name}: unknown field of {type_name}")
                continue
            problems.extend(self.validate_value(field_spec.type, item, f"{path}.{name}"))
        return problems

    def _validate_abstract(self, type_name: str, value: Mapping[str, Any], path: str) -> list[str]:
        subtypes = self.subtypes(type_name)
        if not subtypes:
            return []  # genuinely empty object (CallbackGame) or undescribed union
        kind = value.get("type")
        if kind is None:
            return [f"{path}.type: required field of {type_name} is missing"]
        if not isinstance(kind, str):
            return [f"{path}.type: expected String, got {json_kind(kind)}"]
        suffix = _camel(kind)
        named = [s for s in subtypes if s == type_name + suffix] or [
            s for s in subtypes if s.endswith(suffix)
        ]
        best: list[str] | None = None
        for subtype in named:
            problems = self._validate_fields(subtype, self._types[subtype], value, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        if best is not None:
            return best
        # A few subtypes are not named after their "type" value ("pre" -> ...Preformatted):
        # accept the value if it fully matches a subtype that has fields besides the tag.
        for subtype in subtypes:
            fields = self._types[subtype]
            if set(fields) - _DISCRIMINATORS and not self._validate_fields(
                subtype, fields, value, path
            ):
                return []
        names = ", ".join(subtypes)
        return [f"{path}.type: unknown {type_name} type {kind!r} (one of {names})"]


def load_spec(path: Path | str) -> SpecValidator | None:
    """Read a flat spec file; None if the file does not exist."""
    spec_path = Path(path)
    if not spec_path.is_file():
        return None
    with spec_path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{spec_path}: not a flat Bot API spec (expected a JSON object)")
    return SpecValidator(data)
