"""Column types as the analysis compares them: a normalized form of each declared type and
whether a change from one to another can lose data (widening is safe, anything else may not be)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from faber_db.safety.kinds import Severity

_TYPE_ALIASES = {
    "int": "int4", "integer": "int4", "int4": "int4", "serial": "int4", "serial4": "int4",
    "smallint": "int2", "int2": "int2", "smallserial": "int2", "serial2": "int2",
    "bigint": "int8", "int8": "int8", "bigserial": "int8", "serial8": "int8",
    "varchar": "varchar", "charactervarying": "varchar", "nvarchar": "varchar",
    "char": "bpchar", "character": "bpchar", "bpchar": "bpchar", "nchar": "bpchar",
    "text": "text", "string": "text", "clob": "text",
    "decimal": "numeric", "numeric": "numeric",
    "real": "float4", "float4": "float4",
    "doubleprecision": "float8", "float8": "float8", "double": "float8", "float": "float8",
    "timestamp": "timestamp", "timestampwithouttimezone": "timestamp", "datetime": "timestamp",
    "timestamptz": "timestamptz", "timestampwithtimezone": "timestamptz",
    "time": "time", "timewithouttimezone": "time", "timetz": "timetz", "timewithtimezone": "timetz",
    "bool": "bool", "boolean": "bool",
    "json": "json", "jsonb": "jsonb",
}
_INT_RANK = {"int2": 1, "int4": 2, "int8": 3}
_TEXTUAL = ("varchar", "bpchar", "text")


@dataclass(frozen=True)
class ColumnType:
    base: str
    mods: tuple[int, ...] = ()
    array: bool = False

    def show(self) -> str:
        mods = f"({','.join(str(m) for m in self.mods)})" if self.mods else ""
        return f"{self.base}{mods}{'[]' if self.array else ''}"


def parse_type(text: str) -> ColumnType:
    """`VarChar(100)`, `character varying(100)`, `DECIMAL(65,30)`, `"Role"[]` → a normalized type."""
    raw = text.strip().strip('"').lower()
    array = raw.endswith("[]")
    raw = raw.removesuffix("[]")
    name, _, rest = raw.partition("(")
    mods: list[int] = []
    for part in rest.rstrip(")").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            mods.append(int(part))
    key = re.sub(r"[\s_\"]", "", name)
    return ColumnType(_TYPE_ALIASES.get(key, key), tuple(mods), array)



def type_change(old: str | None, new: str, *, using: bool) -> tuple[Severity, str]:
    new_type = parse_type(new)
    if using:
        return "medium", f"converted to {new_type.show()} with a USING expression (table rewrite; values may fail)"
    if old is None:
        return "medium", (
            f"type changed to {new_type.show()}; the old type is unknown, so it may narrow or rewrite"
        )
    old_type = parse_type(old)
    change = f"{old_type.show()} → {new_type.show()}"
    if _widens(old_type, new_type):
        return "low", f"type widened ({change}); no data is lost"
    return "medium", f"type changed ({change}): may truncate values, fail the cast or rewrite the table"


def _widens(old: ColumnType, new: ColumnType) -> bool:
    if old.array != new.array:
        return False
    if old == new:
        return True
    if old.base in _INT_RANK and new.base in _INT_RANK:
        return _INT_RANK[new.base] >= _INT_RANK[old.base]
    if old.base in _INT_RANK and new.base == "numeric":
        return not new.mods or (new.mods[0] - (new.mods[1] if len(new.mods) > 1 else 0)) >= 19
    if old.base == "float4" and new.base == "float8":
        return True
    if old.base in _TEXTUAL and new.base in _TEXTUAL:
        if new.base == "text" or not new.mods:
            return old.base != "bpchar" or new.base != "bpchar" or not new.mods
        return bool(old.mods) and new.mods[0] >= old.mods[0]
    if old.base == new.base == "numeric":
        if not new.mods:
            return True
        if not old.mods:
            return False
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return new_scale >= old_scale and new.mods[0] - new_scale >= old.mods[0] - old_scale
    if old.base == new.base and old.base in ("timestamp", "timestamptz", "time", "timetz"):
        old_p = old.mods[0] if old.mods else 6
        new_p = new.mods[0] if new.mods else 6
        return new_p >= old_p
    if old.base == "json" and new.base == "jsonb":
        return False
    return False


def sqlite_affinity(declared: str | None) -> str:
    """SQLite's type affinity of a declared column type (the rules of "Datatypes In SQLite", 3.1)."""
    text = (declared or "").upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not text or "BLOB" in text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def sqlite_type_change(old: str | None, new: str | None) -> tuple[Severity, str]:
    """What copying a column into a new declared type does in SQLite: values are never cut or
    refused (SQLite has no length limits and keeps what does not convert); a different affinity
    converts the values that look like its kind and changes what code reads back."""
    shown_new = new or "no type"
    if old is None:
        return "medium", f"declared type changed to {shown_new}; the old type is unknown"
    change = f"{old} → {shown_new}"
    before, after = sqlite_affinity(old), sqlite_affinity(new)
    if before == after:
        return "low", f"declared type changed ({change}), same {after} affinity: values are copied unchanged"
    return "medium", (f"declared type changed ({change}), {before} to {after} affinity: values that look like "
                      f"{after.lower()} values are converted, the rest are kept as they are")
