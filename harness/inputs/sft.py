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

A plan's knowledge-base folder (:mod:`harness.inputs.knowledge_base`) is written once, to
``DIR/knowledge_base.jsonl``, not into each set's file that uses it: several sets share it, and a folder of
their files read as one training set would hold every passage once per set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.inputs.knowledge_base import PlanKnowledgeBase, folder_passages, load_folder
from harness.inputs.retrieval import Passage, chunk_document, load_documents
from harness.records import QuestionSet

KNOWLEDGE_BASE_FILE = "knowledge_base"
"""The name (before ``.jsonl``) of the file a plan's knowledge base is written to; no set may have this id."""

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
    system_tpl, _ = _prompts(qs.language)
    system = system_tpl.format(title=qs.title)
    passages = [p for name, text in documents.items() for p in chunk_document(text, name, max_chars=chunk_chars)]
    out = _passage_examples(passages, qs.language, system)
    for n, shot in enumerate(qs.few_shot, start=1):
        out.append(SftExample(_conversation(system, shot.question, shot.answer), f"few_shot:{n}"))
    if include_questions:
        out.extend(SftExample(_conversation(system, q.question, q.reference), f"question:{q.id}")
                   for q in qs.questions if q.reference)  # fmt: skip
    return out


def _passage_examples(passages: list[Passage], language: str, system: str) -> list[SftExample]:
    """One conversation per passage: what the document says under its heading, answered with the passage."""
    _, user_tpl = _prompts(language)
    out = []
    for p in passages:
        doc_title = Path(p.doc).stem
        topic = (p.heading or doc_title).split(" > ")[-1]
        out.append(SftExample(_conversation(system, user_tpl.format(doc=doc_title, topic=topic), p.text),
                              f"doc:{p.id}"))  # fmt: skip
    return out


def knowledge_base_examples(
    texts: dict[str, str], users: list[QuestionSet], chunk_chars: int = 600
) -> list[SftExample]:  # fmt: skip
    """A knowledge base's training conversations (pure): one per passage of ``texts`` (relative path -> text),
    in the language of the first set in ``users`` (the sets that retrieve from it), titled with their titles."""
    language = users[0].language if users else "en"
    system = _prompts(language)[0].format(title=" / ".join(qs.title for qs in users) or "the company")
    return _passage_examples(folder_passages(texts, chunk_chars), language, system)


def export_sft(
    sets: list[tuple[Path, QuestionSet]], out_dir: Path, include_questions: bool = False,
    knowledge_base: PlanKnowledgeBase | None = None,
) -> dict[str, int]:  # fmt: skip
    """Write ``out_dir/<set id>.jsonl`` per set, and the plan's ``knowledge_base`` (if any set uses it) once to
    ``out_dir/knowledge_base.jsonl``; return file name (without ``.jsonl``) -> examples written. ValueError
    for a bad document, or a set whose id is ``knowledge_base`` when the plan has one."""
    from harness.store import atomic_write_text

    users = [qs for _, qs in sets if knowledge_base is not None and qs.id in knowledge_base.set_ids]
    if users and any(qs.id == KNOWLEDGE_BASE_FILE for _, qs in sets):
        raise ValueError(f"a set's id is {KNOWLEDGE_BASE_FILE!r}, the file the plan's knowledge base is written to; "
                         "rename the set")  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[SftExample]] = {}
    for path, qs in sets:
        docs = load_documents([(path.parent / d).resolve() for d in qs.documents])
        written[qs.id] = sft_examples(qs, docs, include_questions)
    if users and knowledge_base is not None:
        written[KNOWLEDGE_BASE_FILE] = knowledge_base_examples(load_folder(knowledge_base), users)
    for name, examples in written.items():
        lines = "".join(json.dumps({"messages": e.messages}, ensure_ascii=False) + "\n" for e in examples)
        atomic_write_text(out_dir / f"{name}.jsonl", lines)
    return {name: len(examples) for name, examples in written.items()}


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
