"""Read the Berkeley Function Calling Leaderboard's (BFCL) data files into a :class:`QuestionSet`.

A public baseline beside a company's own tool set: ``harness import-bfcl DATA ANSWERS --out SET.yaml``
writes a question set that a plan lists like any other. Files are read from disk; nothing is downloaded.

The format, as read from ShishirPatil/gorilla at commit 6ea57973c7a6097fd7c5915698c54c17c5b1b6c8
(``berkeley-function-call-leaderboard/bfcl_eval/data/BFCL_v4_simple_python.json``, ``BFCL_v4_multiple.json``,
``BFCL_v4_parallel.json`` and their ``possible_answer/`` files; the v3 files, e.g. ``BFCL_v3_simple.json``, have
the same shape). Both files are JSON Lines, one object a line:

- data: ``{"id": "simple_python_1", "question": [[{"role": "user", "content": "..."}]],
  "function": [{"name": "math.factorial", "description": "...", "parameters": {"type": "dict",
  "properties": {"number": {"type": "integer", "description": "..."}}, "required": ["number"]}}]}``
- possible answer: ``{"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]}``:
  one entry per expected call (several: parallel calls, in any order), each argument with the list of its
  acceptable values, ``""`` among them meaning the argument may be left out.

What is read, and how (BFCL's checker is ``bfcl_eval/eval_checker/ast_eval/ast_checker.py``):

- **Categories.** ``simple`` (one function, one call), ``multiple`` (several functions, one call) and
  ``parallel`` / ``parallel_multiple`` (several calls, matched in any order, as BFCL's
  ``parallel_function_checker_no_order``); the ``live_`` files of the same shape too. Multi-turn questions
  (more than one turn, or any message but one user message), and the Java and JavaScript categories (their
  values are source code, their types ``String``, ``HashMap``...) are refused with the file, line and id.
  An ``irrelevance`` file has no answers: read it with ``no_call=True`` (every question: answer without a call).
- **Types** to JSON Schema as BFCL's own ``GORILLA_TO_OPENAPI`` (``bfcl_eval/constants/type_mappings.py``):
  ``dict`` -> ``object``, ``float`` -> ``number``, ``tuple`` / ``list`` -> ``array``, ``bool`` -> ``boolean``,
  ``any`` -> ``string`` (BFCL's checker reads an ``any`` value as a string, and every ``any`` answer in the
  files is one); recursively in ``properties``, ``items`` and ``additionalProperties``. BFCL's non-standard
  ``optional`` key is dropped (``required`` says the same); every other key (``description``, ``enum``,
  ``default``...) is kept as is. Any other type is an error naming it.
- **Function names.** OpenAI's function names allow no dot (``^[a-zA-Z0-9_-]{1,64}$``), so ``math.factorial``
  becomes ``math_factorial``, as BFCL itself renames them for OpenAI-style models (``convert_to_tool``). The
  original is kept in :attr:`BfclImport.renamed` (BFCL name -> tool name; the written YAML lists it in its
  header) and two names of one question that would become the same are an error, so each question's renaming
  can be undone. Descriptions are sent unchanged.
- **Expected arguments** (the grammar of :class:`~harness.records.ExpectedCall`, docs/tools.md): an argument with
  one acceptable value is that literal value; with several, ``{any_of: [v1, v2, ...]}``; with ``""`` among them,
  ``{any_of: [...the others], optional: true}`` (or the one literal ``v`` as ``{any_of: [v], optional: true}``): it
  may be left out, and when passed must be one of the others (BFCL's ``missing_optional`` rule). ``[""]`` alone, and
  a declared parameter the ground truth does not name (passing it is BFCL's ``unexpected_param``), become ``{absent:
  true}``: it must not be passed. A ``dict`` value is itself a mapping of acceptable-value lists (BFCL's
  ``dict_checker``); it is expanded into the literal objects it accepts (a key whose values hold ``""`` appears with
  and without it), and a list of such dicts (``list_dict_checker``) into the lists it accepts, at most
  :data:`MAX_ALTERNATIVES` of them. An acceptable value that does not fit the parameter's schema (``true`` for a
  ``string``, ``"GF"`` outside an ``enum``, ``null`` for a ``float``: a handful of BFCL's answers) is dropped with a
  warning in :attr:`BfclImport.dropped`: no call the API accepts could pass it, so the grade is the same without it;
  an argument left with no acceptable value is an error (or ``{absent: true}`` where ``""`` let it be left out). A
  literal mapping whose keys look like a matcher's is written ``{equals: ...}``.

Errors name the file, the line and the question id (``file:line: id: ...``) and raise
:class:`~harness.validation.InputError`; an answer for an id that the data file lacks is ignored (a data file
cut to a sample may be read with the full answer file).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.records import ExpectedCall, Question, QuestionSet, Tool, ToolFunction
from harness.rubric.tool_args import is_matcher
from harness.rubric.tool_expect import expected_problems
from harness.validation import InputError, Problem

BFCL_TYPES: dict[str, str] = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "dict": "object",
    "object": "object",
    "any": "string",
}
"""BFCL's Python-category types -> JSON Schema types (``GORILLA_TO_OPENAPI``, less the Java/JavaScript ones)."""

OPENAI_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""OpenAI's function-name pattern (no dot), quoted in BFCL's ``convert_to_tool``."""

MAX_ALTERNATIVES = 64
"""Most literal values one argument's acceptable values may expand to (nested dicts multiply)."""

MUST_NOT_PASS: dict[str, Any] = {"absent": True}
"""An argument with no acceptable value: it must not be passed."""

_OMIT = object()


@dataclass(frozen=True)
class BfclImport:
    """A BFCL file pair read as a question set."""

    question_set: QuestionSet
    renamed: dict[str, str] = field(default_factory=dict)
    """BFCL function name -> the tool name it was given (only names that changed: those with a dot)."""
    skipped: list[Problem] = field(default_factory=list)
    """With ``skip_bad``: the lines left out, each as a warning (``file:line: id: why``)."""
    dropped: list[Problem] = field(default_factory=list)
    """Acceptable values left out because they do not fit the parameter's schema, each as a warning at the
    answer's line (``file:line: id: f.arg: why``)."""


class BfclLineError(ValueError):
    """A problem with one line of a BFCL file; the reader turns it into a :class:`Problem` (file, line, id)."""

    in_answer = False
    """The problem is in the possible-answer line, not the data line."""


def read_bfcl(
    data_path: Path,
    answers_path: Path | None,
    *,
    set_id: str | None = None,
    no_call: bool = False,
    skip_bad: bool = False,
) -> BfclImport:
    """Read a BFCL data file and its possible-answer file into a question set.

    ``set_id`` defaults to the data file's name in lower case (``bfcl_v4_simple_python``). ``no_call=True``
    (with ``answers_path`` None) reads an irrelevance file: every question is answered without a call.
    Raises :class:`InputError` listing every problem (``file:line: id: what``); with ``skip_bad`` a bad line is
    left out instead and listed in :attr:`BfclImport.skipped` (BFCL's own files hold a few: two answers of
    ``BFCL_v4_parallel_multiple`` name an argument the function does not declare). An unreadable file, or one
    with no good line, still raises.
    """
    if no_call != (answers_path is None):
        raise ValueError("give an answers file, or no_call=True for an irrelevance file, not both or neither")
    data_name = str(data_path)
    problems: list[Problem] = []
    rows = _read_jsonl(data_path, problems)
    answers: dict[str, tuple[int, Any]] = {}
    if answers_path is not None:
        for line, obj in _read_jsonl(answers_path, problems):
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                answers.setdefault(obj["id"], (line, obj.get("ground_truth")))
            else:
                problems.append(Problem(str(answers_path), line, "(line)", 'an answer needs an "id" string'))
    questions: list[Question] = []
    dropped: list[Problem] = []
    renamed: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, obj in rows:
        qid = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(qid, str) or not qid:
            problems.append(Problem(data_name, line, "(line)", 'a question needs an "id" string'))
        elif qid in seen:
            problems.append(Problem(data_name, line, qid, f"duplicate id (first on line {seen[qid]})"))
        else:
            seen[qid] = line
            if answers_path is not None and qid not in answers:
                problems.append(Problem(data_name, line, qid, f"no answer with this id in {answers_path}"))
                continue
            answer = None if answers_path is None else answers[qid]
            notes: list[str] = []
            try:
                question, names = _question(obj, answer, no_call, notes)
            except BfclLineError as exc:
                at = (str(answers_path), answer[0]) if exc.in_answer and answer else (data_name, line)
                problems.append(Problem(*at, qid, str(exc)))
                continue
            questions.append(question)
            if answer is not None:
                dropped += [Problem(str(answers_path), answer[0], qid, n, severity="warning") for n in notes]
            renamed.update({k: v for k, v in names.items() if k != v})
    if problems and not skip_bad:
        raise InputError(problems)
    skipped = [dataclasses.replace(p, severity="warning") for p in problems]
    if not questions:
        raise InputError([*problems, Problem(data_name, 1, "(file)", "no questions could be read from the file")])
    stem = data_path.name.removesuffix(".json").removesuffix(".jsonl")
    cats = sorted({q.category for q in questions})
    described = (f"Berkeley Function Calling Leaderboard (BFCL) {', '.join(cats)}: {len(questions)} questions "
                 f"read from {data_path.name}" + (f" with {short_name(answers_path)}" if answers_path else "") + ". "
                 "Function names with a dot have it replaced by '_' (docs/tools.md).")  # fmt: skip
    qs = QuestionSet(id=set_id or stem.lower(), title=f"BFCL {', '.join(cats)}", language="en",
                     description=described, questions=questions)  # fmt: skip
    return BfclImport(qs, renamed, skipped, dropped)


def _question(
    obj: dict[str, Any], answer: tuple[int, Any] | None, no_call: bool, notes: list[str]
) -> tuple[Question, dict[str, str]]:
    """One data line (and its answer's line number and ground truth; None: an irrelevance file) as a question,
    with its functions' BFCL name -> tool name; each acceptable value dropped is added to ``notes``. Raises
    :class:`BfclLineError`."""
    qid = obj["id"]
    if "java" in _category(qid):
        raise BfclLineError("Java and JavaScript categories are not read (values are source code)")
    text = _question_text(obj.get("question"))
    functions = obj.get("function")
    if not isinstance(functions, list) or not functions:
        raise BfclLineError('"function" must be a non-empty list of function definitions')
    tools, names = _tools(functions)
    expect: list[ExpectedCall] = []
    if answer is not None:
        try:
            expect = _expected_calls(answer[1], functions, names, notes)
        except BfclLineError as exc:
            exc.in_answer = True
            raise
    try:
        question = Question(id=qid, category=_category(qid), question=text, reference=_reference(expect) or None,
                            tools=tools, expect_call=expect, no_call=no_call)  # fmt: skip
    except ValidationError as exc:
        raise BfclLineError(str(exc).replace("\n", " ")) from None
    return question, names


def short_name(path: Path) -> str:
    """``.../possible_answer/BFCL_v4_multiple.json`` -> ``possible_answer/BFCL_v4_multiple.json``."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _read_jsonl(path: Path, problems: list[Problem]) -> list[tuple[int, Any]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(name, 0, "(file)", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, 0, "(file)", f"cannot read as UTF-8 text: {exc}")]) from None
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            out.append((n, json.loads(raw)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(name, n, "(line)", f"not a JSON object: {exc.msg} (BFCL files hold one a line)"))
    return out


def _question_text(question: Any) -> str:
    """The one user message of a single-turn question (v1 files hold the text itself)."""
    if isinstance(question, str) and question.strip():
        return question
    if not isinstance(question, list) or len(question) != 1 or not isinstance(question[0], list):
        raise BfclLineError("only single-turn questions are read (multi-turn categories are out of scope)")
    turn = question[0]
    if len(turn) != 1 or not isinstance(turn[0], dict) or turn[0].get("role") != "user":
        roles = [m.get("role") for m in turn if isinstance(m, dict)]
        raise BfclLineError(f"a question must be one user message; this one has {roles} (system prompts are not read)")
    content = turn[0].get("content")
    if not isinstance(content, str) or not content.strip():
        raise BfclLineError("the user message has no text")
    return content


def _category(qid: str) -> str:
    """``simple_python_13`` -> ``simple_python``; ``live_simple_48-21-0`` -> ``live_simple``."""
    return re.sub(r"_\d+(?:-\d+)*$", "", qid) or qid


def tool_name(name: str) -> str:
    """A BFCL function name as an OpenAI function name: dots -> ``_`` (BFCL's ``convert_to_tool``)."""
    return name.replace(".", "_")


def _tools(functions: list[Any]) -> tuple[list[Tool], dict[str, str]]:
    tools: list[Tool] = []
    names: dict[str, str] = {}
    for k, fn in enumerate(functions):
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BfclLineError(f"function[{k}] needs a name")
        new = tool_name(fn["name"])
        if not OPENAI_NAME.match(new):
            raise BfclLineError(
                f"function name {fn['name']!r} is not a valid OpenAI function name even with '.' -> '_'"
            )
        if new in names.values():
            raise BfclLineError(f"two functions would both be named {new!r} after '.' -> '_'; cannot tell them apart")
        names[fn["name"]] = new
        params = fn.get("parameters", {"type": "dict", "properties": {}})
        schema = json_schema(params, f"function {fn['name']} parameters")
        schema.setdefault("properties", {})
        if schema.get("type") != "object":
            raise BfclLineError(f"function {fn['name']}: parameters must be of type dict, not {params.get('type')!r}")
        desc = fn.get("description", "")
        tools.append(Tool(function=ToolFunction(name=new, description=desc if isinstance(desc, str) else "",
                                                parameters=schema)))  # fmt: skip
    return tools, names


def json_schema(schema: Any, where: str) -> dict[str, Any]:
    """One BFCL parameter schema as JSON Schema (types mapped by :data:`BFCL_TYPES`, ``optional`` dropped).

    Raises ``BfclLineError`` naming ``where`` for a type outside :data:`BFCL_TYPES`.
    """
    if not isinstance(schema, dict):
        raise BfclLineError(f"{where}: a schema must be a mapping, not {schema!r}")
    out = {k: v for k, v in schema.items() if k != "optional"}
    if "type" in schema:
        kind = schema["type"]
        if kind not in BFCL_TYPES:
            known = ", ".join(sorted(BFCL_TYPES))
            raise BfclLineError(
                f"{where}: unknown type {kind!r} (known: {known}; Java and JavaScript files are not read)"
            )
        out["type"] = BFCL_TYPES[kind]
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: json_schema(v, f"{where}.{k}") for k, v in schema["properties"].items()}
    if "items" in schema:
        out["items"] = json_schema(schema["items"], f"{where}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = json_schema(schema["additionalProperties"], f"{where}.*")
    return out


def _expected_calls(
    truth: Any, functions: list[dict[str, Any]], names: dict[str, str], notes: list[str]
) -> list[ExpectedCall]:
    if not isinstance(truth, list) or not truth:
        raise BfclLineError('"ground_truth" must be a non-empty list of calls')
    by_name = {fn["name"]: fn for fn in functions}
    calls = []
    for k, call in enumerate(truth):
        if not isinstance(call, dict) or len(call) != 1:
            raise BfclLineError(f"ground_truth[{k}] must map one function name to its arguments")
        ((fname, args),) = call.items()
        if fname not in by_name:
            raise BfclLineError(f"ground_truth[{k}] calls {fname!r}, which the question does not offer")
        if not isinstance(args, dict):
            raise BfclLineError(f"ground_truth[{k}] {fname}: the arguments must be a mapping")
        props = json_schema(by_name[fname].get("parameters", {}), f"function {fname} parameters").get("properties", {})
        arguments: dict[str, Any] = {}
        for arg, values in args.items():
            if arg not in props:
                raise BfclLineError(f"ground_truth[{k}] {fname}: argument {arg!r} is not declared by the function")
            arguments[arg] = expected_argument(values, props[arg], f"{fname}.{arg}", notes)
        for arg in props:
            arguments.setdefault(arg, dict(MUST_NOT_PASS))  # BFCL: a parameter the answer leaves out is unexpected
        calls.append(ExpectedCall(name=names[fname], arguments=arguments))
    return calls


def expected_argument(values: Any, schema: dict[str, Any], where: str, dropped: list[str] | None = None) -> Any:
    """One argument's acceptable values (BFCL's list) as the expected-argument grammar (module docstring).

    ``[5]`` -> ``5``; ``["x**2", "y=x**2"]`` -> ``{"any_of": ["x**2", "y=x**2"]}``; ``["units", ""]`` ->
    ``{"any_of": ["units"], "optional": True}``; ``[""]`` -> ``{"absent": True}``; ``[[1.0, 3.0]]`` ->
    ``[1.0, 3.0]`` (one acceptable list).
    ``schema`` is the argument's JSON Schema (already mapped), used to expand dict values and to drop the
    values that do not fit it (each added to ``dropped`` as ``where: value: why``).
    """
    if not isinstance(values, list):
        raise BfclLineError(f"{where}: acceptable values must be a list, not {values!r}")
    optional = any(v == "" and isinstance(v, str) for v in values)
    alternatives: list[Any] = []
    for v in values:
        if not (isinstance(v, str) and v == ""):
            alternatives += _literals(v, schema, where)
    alternatives = [_literal(a, schema) for a in _unique(alternatives)]
    fitting = [a for a in alternatives if _fits(a, schema, where, dropped)]
    if alternatives and not fitting and not optional:
        raise BfclLineError(f"{where}: no acceptable value fits the parameter's schema ({alternatives!r})")
    alternatives = fitting
    if len(alternatives) > MAX_ALTERNATIVES:
        raise BfclLineError(
            f"{where}: the acceptable values expand to {len(alternatives)} literals (at most {MAX_ALTERNATIVES})"
        )
    if optional:
        return {"any_of": alternatives, "optional": True} if alternatives else dict(MUST_NOT_PASS)
    if not alternatives:
        raise BfclLineError(f"{where}: no acceptable value (an empty list)")
    return alternatives[0] if len(alternatives) == 1 else {"any_of": alternatives}


def _literal(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` as a literal of the grammar: ``{equals: value}`` where it would read as a matcher."""
    return {"equals": value} if is_matcher(value, schema) else value


def _fits(value: Any, schema: dict[str, Any], where: str, dropped: list[str] | None) -> bool:
    """Whether a literal fits the parameter's schema (:func:`expected_problems`); if not, say why in
    ``dropped``."""
    found = expected_problems({"v": value}, {"type": "object", "properties": {"v": schema}}, call=False)
    if found and dropped is not None:
        dropped.append(f"{where}: acceptable value {json.dumps(value, ensure_ascii=False)} dropped: {found[0].message}")
    return not found


def _literals(value: Any, schema: dict[str, Any], where: str) -> list[Any]:
    """The literal values one BFCL acceptable value stands for (dicts of acceptable lists expanded)."""
    if schema.get("type") == "object" and isinstance(value, dict):
        return _dict_literals(value, where)
    items = schema["items"] if isinstance(schema.get("items"), dict) else {}
    if schema.get("type") == "array" and items.get("type") == "object" and isinstance(value, list):
        if not all(isinstance(d, dict) for d in value):
            return [value]
        per_item = [_dict_literals(d, f"{where}[{i}]") for i, d in enumerate(value)]
        return [list(combo) for combo in itertools.islice(itertools.product(*per_item), MAX_ALTERNATIVES + 1)]
    return [value]


def _dict_literals(value: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """``{"min": [3], "max": [4, ""]}`` -> ``[{"min": 3, "max": 4}, {"min": 3}]`` (one level, as BFCL checks)."""
    options = []
    for key, acceptable in value.items():
        if not isinstance(acceptable, list):
            raise BfclLineError(f"{where}.{key}: acceptable values must be a list, not {acceptable!r}")
        options.append([(key, _OMIT if isinstance(v, str) and v == "" else v) for v in acceptable])
    out = []
    for combo in itertools.islice(itertools.product(*options), MAX_ALTERNATIVES + 1):
        out.append({k: v for k, v in combo if v is not _OMIT})
    return out


def _unique(values: list[Any]) -> list[Any]:
    seen, out = set(), []
    for v in values:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _reference(calls: list[ExpectedCall]) -> str:
    """The expected calls as text for the report: ``f(a=5, b="x" | "y", c?=true)``: alternatives joined by ``|``,
    ``?`` on an argument that may be left out, ``absent`` (must not be passed) arguments not shown."""
    out = []
    for c in calls:
        shown = []
        for k, v in c.arguments.items():
            if v == MUST_NOT_PASS:
                continue
            matcher = isinstance(v, dict) and "any_of" in v and set(v) <= {"any_of", "optional"}
            alts = v["any_of"] if matcher else [v]
            mark = "?" if matcher and v.get("optional") else ""
            shown.append(f"{k}{mark}=" + " | ".join(json.dumps(a, ensure_ascii=False) for a in alts))
        out.append(f"{c.name}({', '.join(shown)})")
    return "; ".join(out)
