"""Training data out: a question set's documents (and, only when asked, its questions) as chat JSONL.

``harness export-sft SET... --out DIR`` writes ``DIR/<set id>.jsonl``, one example per line::

    {"messages": [{"role": "system", "content": ...}, {"role": "user", "content": ...},
                  {"role": "assistant", "content": ...}]}

the conversation format TRL's ``SFTTrainer``, LLaMA-Factory (``formatting: sharegpt`` with
``messages``) and ms-swift read. Examples come from

- each document passage (:func:`harness.inputs.retrieval.chunk_document`): the user asks what the
  document says under the passage's heading, the assistant answers with the passage;
- the set's ``few_shot`` examples (worked examples, never evaluated);
- the set's evaluated questions with their references only with ``include_questions=True``: training on
  them teaches the test, and the contamination check (:mod:`harness.inputs.contamination`) will flag them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.inputs.retrieval import chunk_document, load_documents
from harness.records import QuestionSet

Message = dict[str, str]

_PROMPTS = {
    "zh": ("你是{title}方面的助手，依据公司文件回答。", "《{doc}》中关于“{topic}”是怎么规定的？"),
    "en": ("You are an assistant for {title}; answer from the company's documents.",
           'What does "{doc}" say about "{topic}"?'),
}  # fmt: skip


@dataclass(frozen=True)
class SftExample:
    """One training conversation and where it came from."""

    messages: list[Message]
    """system, user, assistant turns."""
    source: str
    """``doc:<passage id>``, ``few_shot:<n>`` or ``question:<question id>``."""


def _prompts(language: str) -> tuple[str, str]:
    return _PROMPTS["zh" if language.lower().startswith("zh") else "en"]


def _conversation(system: str, user: str, assistant: str) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user},
            {"role": "assistant", "content": assistant}]  # fmt: skip


def sft_examples(
    qs: QuestionSet, documents: dict[str, str], include_questions: bool = False, chunk_chars: int = 600
) -> list[SftExample]:  # fmt: skip
    """The set's training conversations (pure): passages of ``documents`` (file name -> text), then
    few-shot examples, then, if ``include_questions``, each question with a reference."""
    system_tpl, user_tpl = _prompts(qs.language)
    system = system_tpl.format(title=qs.title)
    out: list[SftExample] = []
    for name, text in documents.items():
        doc_title = Path(name).stem
        for p in chunk_document(text, name, max_chars=chunk_chars):
            topic = (p.heading or doc_title).split(" > ")[-1]
            out.append(SftExample(_conversation(system, user_tpl.format(doc=doc_title, topic=topic), p.text),
                                  f"doc:{p.id}"))  # fmt: skip
    for n, shot in enumerate(qs.few_shot, start=1):
        out.append(SftExample(_conversation(system, shot.question, shot.answer), f"few_shot:{n}"))
    if include_questions:
        out.extend(SftExample(_conversation(system, q.question, q.reference), f"question:{q.id}")
                   for q in qs.questions if q.reference)  # fmt: skip
    return out


def export_sft(sets: list[tuple[Path, QuestionSet]], out_dir: Path, include_questions: bool = False) -> dict[str, int]:
    """Write ``out_dir/<set id>.jsonl`` per set; return set id -> examples written. ValueError for a bad document."""
    from harness.store import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for path, qs in sets:
        docs = load_documents([(path.parent / d).resolve() for d in qs.documents])
        examples = sft_examples(qs, docs, include_questions)
        lines = "".join(json.dumps({"messages": e.messages}, ensure_ascii=False) + "\n" for e in examples)
        atomic_write_text(out_dir / f"{qs.id}.jsonl", lines)
        counts[qs.id] = len(examples)
    return counts


def read_sft(path: Path) -> list[list[Message]]:
    """The ``messages`` of every line of a chat JSONL file, or of every ``*.jsonl`` in a folder (sorted).

    ValueError names the file and line of a line that is no JSON object with a ``messages`` list.
    """
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    out: list[list[Message]] = []
    for file in files:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{n}: not JSON ({exc.msg})") from None
            messages = record.get("messages") if isinstance(record, dict) else None
            if not isinstance(messages, list):
                raise ValueError(f"{file}:{n}: a chat JSONL line needs a `messages` list")
            out.append([{"role": str(m.get("role")), "content": str(m.get("content"))} for m in messages])
    return out
