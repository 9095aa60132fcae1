"""``harness new-set``: a commented skeleton question set that validates as written."""

from __future__ import annotations

import re
from pathlib import Path

NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

SKELETON = """\
# Question set {name}. Guide with an example of every check: docs/question-sets.md
# Check this file with:  .venv/bin/harness validate {path}
id: {name}                      # must be unique in a plan; keep it equal to the file name
title: {title}
language: {language}                    # zh or en: the language of the questions (prompt wording, checks)
description: {description}
# documents: [docs/{name}.md]   # optional: policy text the with_context variant retrieves passages from
#                               # (.docx, .pdf, .html, .xlsx, .md or .txt, in this file's folder or under it)
# context: |                    # optional short passage shown before every question, in every variant
#   {context_line}
# category_weights: {{{category}: 2}}    # optional: weight a whole category in the roll-up

questions:
  - id: q-001                   # unique in this set; letters, digits and dashes
    category: {category}
    question: {question}
    reference: {reference}
    # source: {source}        # optional: a phrase of the document passage that holds the answer
    weight: 1                   # optional: relative weight of this question
    checks:                     # acceptable = every check not marked optional passes; the score ranks (see the guide)
      - type: number            # a value with its unit; reads 5, ５, 五, 一百二十 ...
        value: 5
        unit: {unit}
      - type: contains_any      # one of these phrases; a list inside the list = synonyms
        values: [{phrase}]
        weight: 0.5
        optional: true          # earns credit, but an answer may leave it out
      # - type: not_contains    # a wrong figure or a dangerous instruction must not appear
      #   values: ["{wrong}"]
      #   critical: true        # failing a critical check makes the whole answer score 0

  - id: q-002
    category: {category}
    question: {uncovered}
    reference: {uncovered_reference}
    checks:
      - type: abstains          # the right answer is "the material does not say"
"""

TEXTS = {
    "zh": dict(
        title="（题集标题）",
        description="（一句话说明这个题集考什么）",
        category="年假",
        question="入职满3年的员工每年有几天年假？",
        reference="入职满1年不满10年的员工每年有5天带薪年假。",
        unit="天",
        phrase="带薪",
        context_line="第一条 员工累计工作满1年不满10年的，每年享有带薪年假5天。",
        source="每年享有带薪年假5天",
        wrong="10天",
        uncovered="公司的婚假有几天？",
        uncovered_reference="制度中没有规定婚假天数，请咨询人力资源部。",
    ),
    "en": dict(
        title="(title of the set)",
        description="(one sentence on what the set tests)",
        category="refunds",
        question="How many days do customers have to send a product back?",
        reference="Customers can return a product within 5 days of delivery.",
        unit="days",
        phrase="return",
        context_line="Customers can return a product within 5 days of delivery.",
        source="within 5 days of delivery",
        wrong="10 days",
        uncovered="Do you ship to Antarctica?",
        uncovered_reference="The help centre does not say; please contact support.",
    ),
}


def skeleton(name: str, language: str, path: str) -> str:
    return SKELETON.format(name=name, language=language, path=path, **TEXTS[language])


def write_skeleton(folder: Path, name: str, language: str = "zh") -> Path:
    """Write ``folder/name.yaml``; raises ValueError for a bad name or an existing file."""
    if not NAME.match(name):
        raise ValueError(f"set name {name!r} must be lower-case letters, digits and underscores (e.g. hr_policy_zh)")
    if language not in TEXTS:
        raise ValueError(f"language must be one of {', '.join(TEXTS)}")
    path = folder / f"{name}.yaml"
    if path.exists():
        raise ValueError(f"{path} already exists; choose another name or edit that file")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(skeleton(name, language, str(path)), encoding="utf-8")
    return path
