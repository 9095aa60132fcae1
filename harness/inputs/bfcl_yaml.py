"""A BFCL import (:func:`harness.inputs.bfcl.read_bfcl`) written as question-set YAML, for
``harness import-bfcl --out``: the set in the short tool form, headed by a comment naming its sources and
the functions renamed; strings a YAML 1.2 reader could take for another type quoted."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness.inputs.bfcl import BfclImport, short_name

_LOOKS_TYPED = re.compile(r"^(?:[-+.]?[0-9].*|[-+]?\.(?:inf|nan)|true|false|null|~|)$", re.IGNORECASE)


class _Dumper(yaml.SafeDumper):
    """Quotes every string a YAML 1.2 reader could take for a number, a boolean or null (``1e5``, ``0o7``)."""


def _represent_str(dumper: yaml.SafeDumper, s: str) -> yaml.ScalarNode:
    style = "'" if _LOOKS_TYPED.match(s) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


_Dumper.add_representer(str, _represent_str)


def set_yaml(imported: BfclImport, sources: list[Path]) -> str:
    """The set as question-set YAML, headed by a comment naming the sources and the renamed functions."""
    qs = imported.question_set
    data = qs.model_dump(mode="json", exclude_defaults=True)
    for q in data["questions"]:
        q["tools"] = [t["function"] for t in q.get("tools", [])]  # the short form {name, description, parameters}
    head = [f"# Read by `harness import-bfcl` from {', '.join(short_name(p) for p in sources)} (BFCL, Apache-2.0).",
            "# Expected arguments: a literal, {any_of: [...]}, {any_of: [...], optional: true} for an argument",
            "# that may be left out, {absent: true} for one that must not be passed; see docs/tools.md."]  # fmt: skip
    if imported.renamed:
        head.append("# Functions renamed (BFCL name -> tool name):")
        head += [f"#   {old} -> {new}" for old, new in sorted(imported.renamed.items())]
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    return "\n".join(head) + "\n" + body
