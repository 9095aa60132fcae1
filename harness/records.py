"""Typed records that cross every stage boundary.

This module holds data shapes only, no logic. Every record written to a JSON
Lines file carries ``schema_version``; bump ``SCHEMA_VERSION`` when a field
changes meaning or is removed, and keep field order stable (readers of old
runs and diff tools rely on it). Add new fields with defaults at the end.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)
from typing_extensions import TypedDict  # pydantic validates typing_extensions' TypedDict on Python < 3.12

SCHEMA_VERSION = 2
"""2: a generation keeps its thinking (``reasoning``) apart from the answer (``text``), with the
output tokens split and the time to first answer token. Version-1 records load unchanged but
for a ``<think>`` block inside ``text``, which is split out on reading (see ``Generation``)."""


class Strict(BaseModel):
    """Base for records users write by hand: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------
# Question sets (user input)
# --------------------------------------------------------------------------


class CheckSpec(Strict):
    """One rubric check as written in a question set.

    ``args`` holds the check's own arguments; the registry in
    ``harness.rubric`` validates them against the check's argument model.
    """

    type: str
    """Registered check name, e.g. ``contains_all`` or ``number``."""
    weight: float = Field(default=1.0, gt=0)
    """Relative weight of this check within the question's rubric."""
    critical: bool = False
    """When a critical check fails the whole answer scores 0 (a wrong safety value is not half right)."""
    optional: bool = False
    """An optional part earns credit in the score but an answer can be acceptable without it. By default
    every check is essential: an answer is acceptable only when each essential check passes (``registry.verdict``)."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Check-specific arguments (everything in the YAML mapping but type/weight)."""


TOOL_NAME = r"^[A-Za-z0-9_\-.]{1,64}$"
"""A function name as OpenAI-compatible servers accept it (letters, digits, ``_ - .``, at most 64)."""


class ToolFunction(Strict):
    """A function the model may call, as OpenAI's ``tools[].function``: name, description and the JSON Schema
    (draft 2020-12) of its arguments object."""

    name: str = Field(pattern=TOOL_NAME)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON Schema of the arguments: ``{"type": "object", "properties": {...}, "required": [...]}``."""


class Tool(Strict):
    """One entry of a question set's ``tools:``. Written either as OpenAI's ``{type: function, function:
    {name, description, parameters}}`` or in short as ``{name, description, parameters}``."""

    type: Literal["function"] = "function"
    function: ToolFunction

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and "function" not in data and "name" in data:
            return {"type": data.get("type", "function"), "function": {k: v for k, v in data.items() if k != "type"}}
        return data

    @property
    def name(self) -> str:
        return self.function.name


class ExpectedCall(Strict):
    """A call a right response makes: the function's name and what it must pass for each argument.

    Each value in ``arguments`` is one of:

    - a literal: must be passed, equal after normalisation by the argument's type in the tool's schema:
      ``number``/``integer`` numerically (a string literal is read by the number reader: ``"三"`` is 3);
      ``string`` after NFKC, case-folding and white space; an ``enum`` member exactly;
      ``format: date``/``date-time``/``time`` as the same date and time (``2026-03-05`` is ``2026年3月5日``);
      a number for a ``string`` argument as the string's one figure; a list item by item (``items``); a
      mapping recursively, as the arguments themselves;
    - ``{any_of: [v1, v2, ...]}``: must be passed, equal to one of them;
    - ``{number: N, unit: U, tolerance: R, abs_tolerance: A}``: a number within ``R`` relative (0.01 = 1 %)
      or ``A`` absolute; a string argument is read with its unit converted into ``U``;
    - ``optional: true`` added to ``any_of`` or ``number``: may be left out; if passed, must match;
    - ``{present: true}``: must be passed, with any value its schema allows;
    - ``{absent: true}``: must not be passed (BFCL: a declared parameter its answer does not name);
    - ``{equals: X}``: the literal ``X``, even when ``X`` is a mapping whose keys look like a matcher's.

    An argument ``arguments`` does not name may be left out or take any value its schema allows; a
    literal, ``any_of``, ``number`` or ``present`` one left out is missing unless the schema's ``default``
    matches it; an argument the schema does not declare is an invented argument. Implemented by
    :mod:`harness.rubric.tool_args`, checked by :mod:`harness.rubric.tool_expect`; docs/tools.md, "Expected
    calls"."""

    name: str = Field(pattern=TOOL_NAME)
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResult(Strict):
    """A scripted reply of a tool: when the model calls ``name`` (with ``arguments``, when given, matching as
    in :class:`ExpectedCall`), the harness sends ``content`` back as the tool's message (a string as is,
    anything else as JSON) and asks the model again; its final answer is scored by the question's checks."""

    name: str = Field(pattern=TOOL_NAME)
    arguments: dict[str, Any] | None = None
    content: Any


class Question(Strict):
    id: str = Field(min_length=1)
    """Stable id, unique within its set; used as the resume key."""
    category: str = Field(min_length=1)
    """Business category (e.g. 年假, overtime) for roll-ups."""
    question: str = Field(min_length=1)
    """The text sent to the model."""
    reference: str | None = None
    """A reference answer, shown beside model answers and given to judges."""
    checks: list[CheckSpec] = Field(default_factory=list)
    """Rubric checks; an answer's rubric score is their weighted mean."""
    weight: float = Field(default=1.0, gt=0)
    """Relative weight of this question in its set's roll-up."""
    judge_criteria: list[str] = Field(default_factory=list)
    """Points the LLM judge grades against, beside the reference answer."""
    source: str | None = None
    """A heading or phrase of the document passage that holds the answer (``with_context``
    counts a retrieval hit when a given passage contains it). Leave out when the documents
    do not answer the question."""
    tools: list[Tool] = Field(default_factory=list)
    """Functions offered with this question, besides the set's ``tools`` (names unique across both)."""
    expect_call: list[ExpectedCall] = Field(default_factory=list)
    """The calls a right response makes (several: parallel calls, in any order). Written as one mapping or a
    list. Empty with ``no_call: false``: calls are not graded."""
    no_call: bool = False
    """A right response answers directly; any call is wrong. Excludes ``expect_call``."""
    tool_results: list[ToolResult] = Field(default_factory=list)
    """Scripted tool replies for a multi-step question, besides the set's ``tool_results`` (the question's
    win where both match a call)."""

    @model_validator(mode="before")
    @classmethod
    def _one_call(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("expect_call"), dict):
            return {**data, "expect_call": [data["expect_call"]]}
        return data

    @model_validator(mode="after")
    def _call_or_none(self) -> Question:
        if self.no_call and self.expect_call:
            raise ValueError("a question has either expect_call or no_call: true, not both")
        return self

    @property
    def grades_calls(self) -> bool:
        """Whether the question grades the response's tool calls (``expect_call`` or ``no_call``)."""
        return self.no_call or bool(self.expect_call)


class FewShotExample(Strict):
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class QuestionSet(Strict):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    language: str = Field(min_length=2)
    """BCP-47-ish language tag of the questions: ``zh``, ``en``..."""
    description: str = ""
    context: str | None = None
    """A short shared passage shown before every question, in every variant."""
    documents: list[str] = Field(default_factory=list)
    """Markdown or text files (relative to this set's file) that ``with_context`` retrieves passages from."""
    few_shot: list[FewShotExample] = Field(default_factory=list)
    """Worked examples for ``few_shot``; without them, other questions of the same category are used."""
    category_weights: dict[str, float] = Field(default_factory=dict)
    """Relative weight per category in roll-ups (default 1); multiplies each question's weight."""
    tools: list[Tool] = Field(default_factory=list)
    """Functions offered with every question of the set (OpenAI function definitions)."""
    tool_results: list[ToolResult] = Field(default_factory=list)
    """Scripted tool replies shared by every question of the set."""
    questions: list[Question] = Field(min_length=1)

    def tools_for(self, q: Question) -> list[Tool]:
        """The functions offered with ``q``: the set's, then the question's own."""
        return [*self.tools, *q.tools]

    def tool_results_for(self, q: Question) -> list[ToolResult]:
        """The scripted replies for ``q``: the question's own first (they win), then the set's."""
        return [*q.tool_results, *self.tool_results]


# --------------------------------------------------------------------------
# Eval plan (user input)
# --------------------------------------------------------------------------


class VllmArgs(Strict):
    """Arguments for ``vllm``'s OpenAI-compatible server."""

    tensor_parallel_size: int = Field(default=1, ge=1)
    pipeline_parallel_size: int = Field(default=1, ge=1)
    """Pipeline stages; the server uses tensor × pipeline GPUs (stages may span nodes on a Ray cluster)."""
    max_model_len: int | None = Field(default=None, ge=16)
    dtype: Literal["auto", "bfloat16", "float16", "float32", "half", "float", "bf16", "fp16", "fp32"] = "auto"
    """``auto`` (default): what the hardware computes natively, chosen when the server starts
    (bfloat16 on GPUs of compute capability >= 8.0 and CPUs with AVX512_BF16/AMX; float16 on
    older GPUs; float32 on other CPUs; see :mod:`harness.dtype`). An explicit dtype is kept."""
    enforce_eager: bool = False
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    extra_args: list[str] = Field(default_factory=list)
    """Further command-line arguments passed through verbatim."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment for the server process, e.g. ``VLLM_CPU_KVCACHE_SPACE: "1"``."""


class Endpoint(Strict):
    """An already-running OpenAI-compatible server instead of one we start."""

    base_url: str
    """E.g. ``http://10.0.0.5:8000/v1``."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the key (never the key)."""
    model: str | None = None
    """Model name the endpoint serves; defaults to the candidate's ``model``."""
    tokenizer: str | None = None
    """Tokenizer folder (relative to the plan) or cached hub id: counts output tokens when the server
    sends no ``usage`` (labelled so in the report); without it such counts are unknown."""
    gpus: int | None = Field(default=None, ge=1)
    """GPUs behind the endpoint's server, as its operator states them (the harness cannot see them): what its
    cost per GPU-hour counts. Default: the candidate's tensor × pipeline parallel size."""
    gpu_memory_gib: float | None = Field(default=None, gt=0)
    """Memory per GPU the endpoint's model takes (weights plus KV cache), as its operator states it: the
    endpoint's ``memory_needed_gib`` for ``constraints.max_gpu_memory_gib``, which cannot be judged without it."""


class Reasoning(Strict):
    """How a candidate's thinking reaches the harness (see docs/reasoning.md)."""

    parser: str = "none"
    """vLLM ``--reasoning-parser`` name (``deepseek_r1``, ``qwen3``, ``glm45``, ``openai_gptoss``...), checked
    against the installed vLLM; ``none``: no parser, the client splits ``<think>…</think>`` out of the content."""
    plugin: str | None = None
    """A Python file (relative to the plan) that registers a parser of your own (``--reasoning-parser-plugin``)."""
    tokenizer: str | None = None
    """Tokenizer folder (relative to the plan) or cached hub id to count thinking tokens with when the server's
    usage does not give them; default: the model the harness serves (none for an endpoint)."""


class Candidate(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    """Short name used in file names and the report."""
    model: str = Field(min_length=1)
    """Local path (relative to the plan file) or Hugging Face id."""
    revision: str | None = None
    """Pinned model revision for hub models."""
    vllm: VllmArgs = Field(default_factory=VllmArgs)
    chat_template: str | None = None
    """Path to a Jinja chat template for models that lack one."""
    api: Literal["auto", "chat", "completions"] = "auto"
    """``auto`` uses chat when the model has a chat template, else completions."""
    price_per_gpu_hour_usd: float = Field(default=0.0, ge=0)
    endpoint: Endpoint | None = None
    config_json: str | None = None
    """A config.json (path relative to the plan) for `harness estimate` when the weights are not local."""
    family: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+$")
    """The model family (``qwen``, ``llama``, ``smollm``…) when neither the model's name nor its config.json
    tells it, e.g. an endpoint serving under another name: a judge never grades its own family
    (docs/judging.md). Default: from the name, then config.json's ``model_type`` and ``architectures``."""
    reasoning: Reasoning = Field(default_factory=Reasoning)
    """Thinking models: the vLLM reasoning parser that separates the thinking from the answer."""
    tool_parser: str | None = None
    """vLLM ``--tool-call-parser`` name (``hermes`` for Qwen2.5, ``llama3_json``, ``mistral``...): the harness
    starts the server with ``--enable-auto-tool-choice --tool-call-parser NAME``, after checking the name
    against the installed vLLM. None: no parser; a call the model writes as ``<tool_call>`` text is read out
    of the answer by the client and flagged (docs/tools.md, "Serving: parsers"). An endpoint names none: its
    server decides."""
    # Variant families (docs/variants.md). All three default to None, so a plan without them keeps
    # its fingerprint (the fingerprint drops defaults).
    base: str | None = None
    """The candidate this one is a variant of (a LoRA adapter on it, or a quantized build of it);
    the report's "Variants" section compares the two paired over the same questions."""
    adapter: str | None = None
    """A PEFT LoRA adapter folder (relative to the plan), served on the base's own vLLM server
    (``--enable-lora``); requests name the adapter as ``model``. Needs ``base``; ``model`` must be the base's."""
    train_data: str | None = None
    """The adapter's training data (chat JSONL, a file or a folder of them, relative to the plan): checked
    for overlap with the evaluated questions and references (:mod:`harness.inputs.contamination`)."""

    @property
    def gpus(self) -> int:
        """GPUs behind one server of this candidate: tensor × pipeline parallel size (what its cost counts)."""
        if self.endpoint is not None and self.endpoint.gpus is not None:
            return self.endpoint.gpus
        return self.vllm.tensor_parallel_size * self.vllm.pipeline_parallel_size


class Slo(Strict):
    """Service-level objectives a request must meet to count toward goodput."""

    ttft_ms: float | None = Field(default=None, gt=0)
    tpot_ms: float | None = Field(default=None, gt=0)
    e2e_ms: float | None = Field(default=None, gt=0)
    attainment: float = Field(default=0.95, gt=0, le=1)
    """A load level meets the SLOs when at least this share of its requests meet all of them."""


class Sweep(Strict):
    """Load sweep replayed against each candidate's server after its answers are generated."""

    concurrency: list[int] = Field(default=[1, 4, 16])
    request_rates: list[float] = Field(default_factory=list)
    """Poisson request rates (requests/s), run after the concurrency levels."""
    requests_per_level: int = Field(default=32, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    """Output tokens per request (default: sampling.max_tokens)."""
    ignore_eos: bool = True
    """Generate exactly max_tokens per request (a vLLM extension; set false for other servers)."""
    capacity: Literal["concurrency", "rate"] | None = None
    """After the levels, search the largest concurrency (or Poisson rate) that meets the SLOs (capacity.jsonl)."""
    capacity_repeats: int = Field(default=3, ge=1)
    """Runs per probed point of the capacity search; a point passes when most of them meet the SLOs."""
    capacity_limit: float = Field(default=256, gt=0)
    """The capacity search never probes above this concurrency (or rate)."""


class Perf(Strict):
    slo: Slo = Field(default_factory=Slo)
    sweep: Sweep | None = Field(default_factory=Sweep)
    """None skips the load sweep."""
    gpu: str | None = None
    """GPU type the candidates run on (a name from harness/inputs/gpus.py): price and roofline."""
    gpu_prices_usd_per_hour: dict[str, float] = Field(default_factory=dict)
    """Overrides of the documented default prices per GPU type."""
    sample_interval_s: float = Field(default=0.5, gt=0)
    target_rps: float | None = Field(default=None, gt=0)
    """The load to cost (requests/s within the SLOs): replicas from each candidate's SLO capacity."""


class Judge(Candidate):
    """The judge: a model served like a candidate (or an endpoint), and how it grades.

    The judge goes through the same client as the candidates.
    """

    name: str = Field(default="judge", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    modes: list[Literal["single", "pairwise"]] = Field(default=["single", "pairwise"], min_length=1)
    """single: reference-guided 1-N grading; pairwise: two candidates' answers, asked in both orders."""
    scale: int = Field(default=10, ge=2, le=100)
    """Single grading scale 1..scale."""
    pass_score: float | None = None
    """A single-grade score at or above this is acceptable (default 60% of the scale)."""
    max_tokens: int = Field(default=96, ge=8)
    temperature: float = Field(default=0.0, ge=0)
    seed: int = 0
    concurrency: int = Field(default=8, ge=1)
    retest_fraction: float = Field(default=0.2, ge=0, le=1)
    """Share of single judgments asked again (another seed) for test-retest agreement."""
    retest_temperature: float = Field(default=0.7, ge=0)
    """Sampling temperature of the retest: agreement then shows how much a verdict rests on luck."""
    pairwise_max_questions: int | None = Field(default=None, ge=1)
    """Compare pairs on at most this many questions per set (the first ones), to bound cost."""
    injection_answers: int = Field(default=4, ge=0)
    """How many low-scored real answers the prompt-injection fixture is applied to (0 = skip)."""
    variants: list[str] | None = None
    """Grade only the answers to these prompt variants (default: every variant), to bound the cost
    of single grading; pairwise judging always compares the ``decide_on`` variant."""
    # A judge is no variant: the family fields it inherits stay out of its dumps, so the judge's
    # fingerprint (a hash of its dump) is what it was before they existed.
    base: None = Field(default=None, exclude=True)
    adapter: None = Field(default=None, exclude=True)
    train_data: None = Field(default=None, exclude=True)
    tool_parser: None = Field(default=None, exclude=True)
    """A judge is offered no tools: it names no tool-call parser."""

    @property
    def pass_mark(self) -> float:
        """The single grade at or above which an answer is acceptable: ``pass_score``, else 60 % of the scale."""
        return self.pass_score if self.pass_score is not None else 0.6 * self.scale

    @model_validator(mode="after")
    def _pass_score_on_scale(self) -> Judge:
        if self.pass_score is not None and not 1 <= self.pass_score <= self.scale:
            what = "every grade passes" if self.pass_score < 1 else "no grade can pass"
            raise ValueError(f"pass_score {self.pass_score:g} is outside the grading scale 1..{self.scale}: {what}")
        return self


class Sampling(Strict):
    temperature: float = Field(default=0.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_tokens: int = Field(default=256, ge=1)
    seed: int = 0
    samples: int = Field(default=1, ge=1)
    """Answers drawn per question; sample i uses seed ``seed + i``. Stability needs 2 or more."""
    questions_per_set: int | None = Field(default=None, ge=1)
    """Ask only N questions of each set, spread over its categories (a quick, cheaper run; the report says so)."""


class Limits(Strict):
    concurrency: int = Field(default=8, ge=1)
    request_timeout_s: float = Field(default=120.0, gt=0)
    retries: int = Field(default=2, ge=0)
    """Further attempts after a timeout, connection error, 429 or 5xx. A 429 or 503 that says how long to
    wait (``Retry-After``, a loading model) is waited out without spending one: up to ``request_timeout_s``
    of waiting on rate limits per answer, ``server_start_timeout_s`` on a loading model (docs/reliability.md)."""
    server_start_timeout_s: float = Field(default=600.0, gt=0)
    unresponsive_s: float = Field(default=60.0, gt=0)
    """A server giving ``/health`` no answer for this long is declared hung: its candidate fails, the run goes on."""
    max_consecutive_failures: int | None = Field(default=16, ge=1)
    """Stop asking a candidate after this many requests in a row failed (each after its retries); null: never."""


class LmEval(Strict):
    """Public benchmarks through lm-evaluation-harness, run against each candidate's own server while it is up."""

    tasks: list[str] = Field(min_length=1)
    """lm-eval task names (built-in ones whose data is local, or tasks under ``include_path``)."""
    include_path: str | None = None
    """A folder of task YAML files, relative to the plan (e.g. the project's ``lm_eval_tasks``)."""
    num_fewshot: int | None = Field(default=None, ge=0)
    limit: int | None = Field(default=None, ge=1)
    """At most this many documents per task (a quick look)."""
    batch_size: int = Field(default=1, ge=1)
    """Concurrent requests lm-eval sends (its ``num_concurrent``)."""
    tokenizer: str | None = None
    """Tokenizer folder (relative to the plan) or cached hub id for endpoint candidates; log-likelihood
    tasks need it. Candidates the harness serves from a local folder use that folder."""


VariantKind = Literal["zero_shot", "few_shot", "system_prompt", "with_context"]
Retriever = Literal["bm25", "dense", "hybrid"]
"""How a ``with_context`` variant ranks passages: ``bm25`` (lexical), ``dense`` (cosine of the plan's
``embedding`` model's vectors) or ``hybrid`` (both lists fused by reciprocal rank, k = 60); docs/knowledge-base.md."""


class Embedding(Strict):
    """The embedding model that ``dense`` and ``hybrid`` variants rank passages with (docs/knowledge-base.md).

    Served like a candidate: a local folder or hub id that the harness starts with vLLM's pooling runner
    before the candidates and stops once every passage and question is embedded, or ``endpoint``: an
    OpenAI-compatible ``/v1/embeddings`` service already running (vLLM, TEI, a hosted API). Vectors are
    cached by (``model``, ``revision``, sha256 of the text), so a re-run or ``harness context`` embeds nothing.
    """

    model: str = Field(min_length=1)
    """Local folder (relative to the plan) or hub id; with ``endpoint``, the name the endpoint serves it under
    unless ``endpoint.model`` says otherwise. It names the vectors in the cache: give another name when the
    weights behind it change."""
    revision: str | None = None
    vllm: VllmArgs = Field(default_factory=VllmArgs)
    """Arguments of the pooling server the harness starts (``--runner pooling --convert embed`` are added)."""
    endpoint: Endpoint | None = None
    batch_size: int = Field(default=32, ge=1)
    """Texts per ``/v1/embeddings`` request."""


class Variant(Strict):
    """One way of asking every question; every candidate answers in every variant.

    ``zero_shot``: the question alone. ``few_shot``: ``shots`` worked examples first.
    ``system_prompt``: a role, e.g. "你是本公司人事制度助手". ``with_context``: the
    ``top_k`` passages of the set's documents that BM25 ranks highest for the question.
    """

    name: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    kind: VariantKind
    shots: int = Field(default=3, ge=1)
    system_prompt: str | dict[str, str] | None = None
    """Text, or text per language (``{zh: ..., en: ...}``)."""
    top_k: int = Field(default=3, ge=1)
    chunk_chars: int = Field(default=300, ge=50)
    thinking: bool | None = None
    """Thinking on (true) or off (false) for models that can switch; None leaves the model's default. Sent as
    ``chat_template_kwargs: {enable_thinking: …}`` (the Qwen3/GLM convention) unless ``chat_template_kwargs``
    is given; the report compares quality, tokens and seconds with and without thinking."""
    chat_template_kwargs: dict[str, Any] | None = None
    """Sent as is to the chat endpoint (``{thinking: true}`` for DeepSeek-V3.1); overrides ``thinking``'s default."""
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """Sent as ``reasoning_effort`` (gpt-oss and other models that take it)."""
    retriever: Retriever = "bm25"
    """``with_context`` only: ``bm25`` (default), ``dense`` or ``hybrid`` (these two need the plan's ``embedding``)."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """``with_context`` alone means ``{name: with_context, kind: with_context}``."""
        if isinstance(data, str):
            return {"name": data, "kind": data}
        if isinstance(data, dict) and "kind" not in data and "name" in data:
            return {**data, "kind": data["name"]}
        return data

    @model_validator(mode="after")
    def _needs(self) -> Variant:
        if self.kind == "system_prompt" and not self.system_prompt:
            raise ValueError("a system_prompt variant needs system_prompt text")
        if self.retriever != "bm25" and self.kind != "with_context":
            raise ValueError(f"retriever: only a with_context variant retrieves; remove it from this {self.kind} one")
        return self

    @model_serializer(mode="wrap")
    def _as_before_with_bm25(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_unused(handler(self), retriever="bm25")


DEFAULT_VARIANT = "zero_shot"


class Weights(Strict):
    """How much each side of the choice counts in the recommendation (normalised to sum 1).

    Each candidate gets a 0-1 mark per side: quality = rubric score; stability = pass^k
    (every sample acceptable); cost = cheapest $/1M tokens / its own; latency = fastest
    p95 end-to-end latency / its own; calls = call accuracy (the share of answers to questions
    with ``expect_call`` whose first response made the expected calls with the expected
    arguments, docs/tools.md). A side no candidate has figures for is left out.
    """

    quality: float = Field(default=0.5, ge=0)
    cost: float = Field(default=0.2, ge=0)
    latency: float = Field(default=0.1, ge=0)
    stability: float = Field(default=0.2, ge=0)
    calls: float = Field(default=0.0, ge=0)
    """0 by default: a plan that does not weigh tool calls decides as before. Above 0, the plan's sets must
    hold a question with ``expect_call`` (``harness validate`` says so otherwise)."""

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if self.quality + self.cost + self.latency + self.stability + self.calls <= 0:
            raise ValueError("at least one weight must be above 0")
        return self

    @model_serializer(mode="wrap")
    def _as_before_without_calls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_unused(handler(self), calls=0.0)


class Constraints(Strict):
    """Hard limits: a candidate that breaks one is not recommended, however good."""

    max_gpu_memory_gib: float | None = Field(default=None, gt=0)
    """Memory the model needs per GPU: weights plus the KV cache in use at the run's peak."""
    max_p95_latency_ms: float | None = Field(default=None, gt=0)
    """p95 end-to-end latency of the answers, at the plan's concurrency."""
    min_stability: float | None = Field(default=None, ge=0, le=1)
    """Least pass^k: the share of questions answered acceptably in every sample."""
    min_quality: float | None = Field(default=None, ge=0, le=1)
    """Least rubric score."""
    max_usd_per_mtok: float | None = Field(default=None, gt=0)
    max_p95_ttft_ms: float | None = Field(default=None, gt=0)
    """p95 time to first token (thinking included), at the plan's concurrency."""
    max_p95_ttfat_ms: float | None = Field(default=None, gt=0)
    """p95 time to first answer token (after the thinking): what a user waits before the answer starts."""
    min_call_accuracy: float | None = Field(default=None, ge=0, le=1)
    """Least call accuracy (0-1) of the answers to questions with ``expect_call`` (the quality run's first
    responses, docs/tools.md). Needs such a question in the plan's sets (``harness validate``); a candidate
    with no graded call (every such answer failed, or it is served on the completions API) breaks it."""
    max_unparsable_call_share: float | None = Field(default=None, ge=0, le=1)
    """Most share (0-1) of the graded responses (``expect_call`` or ``no_call``) whose calls could not be read
    (``unparsable``). Needs a question that grades calls in the plan's sets; no graded call breaks it."""
    max_text_call_share: float | None = Field(default=None, ge=0, le=1)
    """Most share (0-1) of the calls made that the model wrote in its answer's text rather than through the
    server's tool-call protocol (docs/tools.md, "Calls written in the text"): 0 asks for every call through
    the protocol, as an application on a stock server needs. A candidate that made no call has nothing to
    judge here (``min_call_accuracy`` says whether it should have). Needs a question that grades calls."""
    min_answered_share: float = Field(default=1.0, ge=0, le=1)
    """Least share of the plan's answers (questions x samples of the decision variant) that came back
    without an error: the evidence a recommendation needs. 1.0 (the default): every one; a failed or
    never-asked answer counts against it, and the card names the errors of the missing ones."""

    @model_serializer(mode="wrap")
    def _as_before_without_calls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_unused(
            handler(self), min_call_accuracy=None, max_unparsable_call_share=None, max_text_call_share=None
        )


def _without_unused(data: dict[str, Any], **defaults: Any) -> dict[str, Any]:
    """``data`` (a dumped record) less each key of ``defaults`` still at its default value: the tool-call
    weight and limits are written only when a plan sets them, so a plan that does not weigh calls is saved
    (in the run's manifest, in ``summary.json``) as it was before they existed, and reads back the same."""
    return {k: v for k, v in data.items() if k not in defaults or v != defaults[k]}


class JudgePanel(Strict):
    """How several judges' grades make one verdict (docs/judging.md).

    Definitions: the panel's single grade of an answer is the ``rule`` (median by default) of the
    grades of the judges that graded it; its pairwise verdict is the majority of theirs (no majority:
    a tie). A judge whose reply failed or did not parse is left out of that verdict and counted, never
    scored 0. EvalScope's multi-judge grading and Arena-Hard v2's ensemble judges work the same way.
    """

    rule: Literal["median", "mean", "min"] = "median"
    """Single grades: median (robust to one lenient judge), mean, or min (the strictest judge decides)."""
    quorum: int | None = Field(default=None, ge=1)
    """Least judges whose grade of one answer must have parsed for the panel to give a verdict on it;
    fewer: unparsed. Default: at least half of the judges allowed to grade that candidate (of two,
    one: a failed judge leaves the other's grade standing; of three, two)."""
    same_family: Literal["exclude", "allow"] = "exclude"
    """``exclude`` (default): a judge never grades a candidate of its own model family (self-preference);
    ``allow``: it does, and the report says so."""


class ReviewPolicy(Strict):
    """How human grades (``harness review add``, docs/review.md) enter the decision, and when the judge is trusted."""

    quality: Literal["human_first", "human_only", "machine"] = "human_first"
    """What decides an answer's quality: ``human_first``: the people's verdict where the answer was reviewed,
    else the rubric (and the judge, when trusted); ``human_only``: reviewed answers only (a candidate
    without one is not eligible); ``machine``: the rubric and trusted judge, human grades shown but unused."""
    judge_min_kappa: float = Field(default=0.4, ge=-1, le=1)
    """Least Cohen's κ between the judge's pass/fail and the people's acceptable on answers both graded:
    below it, or with fewer than ``judge_min_pairs`` such answers, the judge is *not trusted*."""
    judge_min_pairs: int = Field(default=20, ge=1)
    """Answers graded by both judge and people needed before the judge's agreement is measured at all."""
    keep_untrusted_judge: bool = False
    """Keep an untrusted judge's grades in the decision anyway (the report says so)."""


class KnowledgeBase(Strict):
    """A folder of documents that several question sets of a plan retrieve from (docs/knowledge-base.md,
    "One knowledge base for several sets"). Written as the folder alone (``knowledge_base: kb/``) or as
    ``{folder: kb/, sets: [hr, safety]}``."""

    folder: str = Field(min_length=1)
    """The folder, relative to the plan file. Every .docx, .pdf, .html/.htm, .xlsx, .md and .txt file in it or
    under it (hidden files and folders aside), in the order of their relative paths, is a document."""
    sets: list[str] | None = None
    """Ids of the sets that retrieve from it. None: every set of the plan that lists no ``documents`` of its
    own. A set's own ``documents`` always win: such a set retrieves from them only (listing it here is an error)."""

    @model_validator(mode="before")
    @classmethod
    def _folder_alone(cls, data: Any) -> Any:
        return {"folder": data} if isinstance(data, str) else data

    def uses(self, qs: QuestionSet) -> bool:
        """Whether ``qs`` retrieves from this folder: it lists no documents of its own, and ``sets`` names it
        (or is left out)."""
        return not qs.documents and (self.sets is None or qs.id in self.sets)


class Plan(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    candidates: list[Candidate] = Field(min_length=1)
    question_sets: list[str] = Field(min_length=1)
    """Paths of question-set files, relative to the plan file."""
    sampling: Sampling = Field(default_factory=Sampling)
    limits: Limits = Field(default_factory=Limits)
    perf: Perf = Field(default_factory=Perf)
    judge: Judge | None = None
    """One judge (the short form of a one-judge panel); give ``judges`` for several."""
    judges: list[Judge] = Field(default_factory=list)
    """A panel of judges, each a served model or an endpoint configured as ``judge``; see ``panel``."""
    panel: JudgePanel = Field(default_factory=JudgePanel)
    lm_eval: LmEval | None = None
    rubric_pass_threshold: float = Field(default=0.5, ge=0, le=1)
    """For a rubric with no essential content check (every content check ``optional``): a score at or
    above this counts as an acceptable answer. Otherwise an answer is acceptable when every essential
    check passes (``harness.rubric.registry.verdict``), whatever its partial credit."""
    bootstrap_resamples: int = Field(default=2000, ge=100)
    variants: list[Variant] = Field(default_factory=lambda: [Variant(name=DEFAULT_VARIANT, kind="zero_shot")])
    """Ways of asking every question. Gains are measured against the first ``zero_shot`` variant (else the first)."""
    decide_on: str | None = None
    """The variant the recommendation, significance, stability and pairwise judging use: the way the
    model will be used in production (e.g. ``with_context`` for a RAG assistant). Default: the first."""
    weights: Weights = Field(default_factory=Weights)
    constraints: Constraints = Field(default_factory=Constraints)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    """Human review: what decides quality once people have graded answers (docs/review.md)."""
    knowledge_base: KnowledgeBase | None = None
    """One folder of documents several sets retrieve from (``with_context``); see :class:`KnowledgeBase`."""
    embedding: Embedding | None = None
    """The embedding model of the ``dense`` and ``hybrid`` variants (None: every variant retrieves with BM25;
    ``harness validate`` refuses a dense or hybrid variant without it)."""

    @model_validator(mode="after")
    def _unique_variants(self) -> Plan:
        names = [v.name for v in self.variants]
        if not names:
            raise ValueError("variants: give at least one (e.g. [zero_shot])")
        if len(set(names)) != len(names):
            raise ValueError(f"variants: duplicate names in {names}")
        if self.decide_on is not None and self.decide_on not in names:
            raise ValueError(f"decide_on: {self.decide_on!r} is not one of the variants {names}")
        for i, judge in enumerate(self.panel_judges):
            unknown = [v for v in (judge.variants or []) if v not in names]
            if unknown:
                where = f"judges[{i}]" if self.judges else "judge"
                raise ValueError(f"{where}.variants: {unknown} are not among the variants {names}")
        return self

    @model_validator(mode="after")
    def _one_panel(self) -> Plan:
        if self.judge is not None and self.judges:
            raise ValueError("give either judge (one judge) or judges (a panel), not both")
        names = [j.name for j in self.judges]
        if len(set(names)) != len(names):
            raise ValueError(f"judges: duplicate names in {names}; give each judge its own name")
        scales = {(j.scale, j.pass_mark) for j in self.judges}
        if len(scales) > 1:
            raise ValueError(
                "judges: every judge of a panel grades on one scale with one pass score; "
                f"got {sorted(f'{s} (pass {p:g})' for s, p in scales)}"
            )
        if self.panel.quorum is not None and self.panel.quorum > max(len(self.panel_judges), 1):
            raise ValueError(f"panel.quorum {self.panel.quorum} exceeds the {len(self.panel_judges)} judges")
        return self

    @property
    def panel_judges(self) -> list[Judge]:
        """The plan's judges: ``judges``, or the one ``judge`` (empty: the run is not judged)."""
        return list(self.judges) if self.judges else ([self.judge] if self.judge is not None else [])

    @property
    def decision_variant(self) -> str:
        return self.decide_on or self.variants[0].name


# --------------------------------------------------------------------------
# Run records (machine output, JSON Lines)
# --------------------------------------------------------------------------


class ToolCallMade(BaseModel):
    """One tool call a model made, as the server streamed it (OpenAI ``choices[].delta.tool_calls``,
    assembled by index): the function's name and its arguments as the raw JSON text, never parsed here
    (grading parses it: :func:`harness.rubric.tool_calls.grade_calls`)."""

    name: str
    arguments: str = ""
    """The arguments exactly as streamed, fragments joined: a JSON object when the model got it right."""
    id: str | None = None
    """The server's call id (sent back with the tool's reply)."""
    from_text: bool = False
    """True when the client read the call out of the answer text (a Hermes ``<tool_call>`` block) because
    the server was started without a tool-call parser: the application would not have seen a call."""
    problem: str | None = None
    """Why the call cannot be used as streamed, one line (None: it can): a fragment without an ``index``,
    arguments that are not text, no function name by the end, ``tool_calls`` that is not a list, a
    ``<tool_call>`` block that is not JSON. The call is kept as far as it went; grading counts it unparsable."""


class ToolStep(BaseModel):
    """One round of a multi-step answer: the calls the model made, and the scripted replies sent back
    (``QuestionSet.tool_results``; the tool's name and the content sent, in call order; a call with no
    scripted reply ends the answer)."""

    calls: list[ToolCallMade] = Field(default_factory=list)
    replies: list[str] = Field(default_factory=list)
    """The content sent back for each call that had a scripted reply, in call order."""
    text: str = ""
    """What the model said beside its calls in this round."""


class GivenPassage(BaseModel):
    """One retrieved passage as the model was given it (``with_context``): the drill-down shows it."""

    id: str
    """``<doc stem>#<n>`` (:class:`harness.inputs.retrieval.Passage`)."""
    doc: str
    """The document's file name."""
    heading: str | None = None
    """Heading path, e.g. ``加班 > 法定节假日``; None before the first heading."""
    page: int | None = None
    """The page it starts on (PDF), counting from 1; None for other documents."""
    text: str


class AnswerRef(BaseModel):
    """The fields that name one answer; records about an answer start with them."""

    schema_version: int = SCHEMA_VERSION
    key: str
    """``candidate/set/question/sample``: unique per run, the resume key."""
    candidate: str
    set_id: str
    question_id: str
    sample: int
    variant: str = DEFAULT_VARIANT
    """The plan variant (way of asking) this answer was produced under."""


class Generation(AnswerRef):
    """One model answer to one question sample, with its request timings."""

    api: Literal["chat", "completions"]
    """Which endpoint produced the answer."""
    seed: int
    text: str = ""
    """The answer: what is scored and judged. A thinking model's thinking is in ``reasoning``, never here."""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    """Every output token, thinking included (the server's usage)."""
    ttft_ms: float | None = None
    """First token, thinking included (as ``vllm bench serve``); ``ttfat_ms`` is the answer's first token."""
    e2e_ms: float | None = None
    itl_ms: list[float] = Field(default_factory=list)
    """Gaps between consecutive content chunks."""
    started_at: float = 0.0
    """Unix time the (last) attempt started."""
    attempts: int = 1
    error: str | None = None
    """Set when every attempt failed; ``text`` is then empty."""
    wait_ms: float | None = None
    """Time spent waiting between attempts: the server's ``Retry-After`` or loading estimate, and backoff
    (docs/reliability.md). Never inside ``ttft_ms`` or ``e2e_ms``, which time the attempt that answered.
    None in runs made before it existed."""
    context_ids: list[str] = Field(default_factory=list)
    """Passages given with the question (``with_context``), best first."""
    context: str | None = None
    """The context text given, as the model saw it (for faithfulness checks and the judge)."""
    passages: list[GivenPassage] = Field(default_factory=list)
    """The passages of ``context_ids``, in order, with their file, heading path and page (empty in runs made
    before it existed): what the report's drill-down shows under each answer."""
    # -- schema 2: thinking models. ``text`` above is the answer only (what is scored and judged).
    reasoning: str | None = None
    """The model's thinking (None: it gave none), from the server's reasoning field or split out of the content."""
    reasoning_via: Literal["parser", "think_tags"] | None = None
    """Where the thinking came from: the server's reasoning parser, or ``<think>`` tags split by the client."""
    reasoning_tokens: int | None = None
    """Output tokens spent thinking (part of ``output_tokens``)."""
    answer_tokens: int | None = None
    """Output tokens of the answer: ``output_tokens - reasoning_tokens``."""
    token_split: Literal["usage", "tokenizer"] | None = None
    """Where ``reasoning_tokens`` came from: the server's usage details, or counted with the candidate's tokenizer."""
    ttfat_ms: float | None = None
    """Time to first answer token: request start to the first chunk of the answer (after the thinking)."""
    cut_off_thinking: bool = False
    """The model thought but gave no answer (``max_tokens`` ran out, or it never closed its thinking): scored 0."""

    output_tokens_source: Literal["server", "tokenizer"] | None = None
    """Who counted ``output_tokens``: the server's usage, or the candidate's tokenizer (the server sent
    none); None with ``output_tokens`` None: unknown."""
    question_digest: str | None = None
    """Digest of what was asked (question, set context, variant framing): an answer whose question has
    changed since is asked again on resuming (``harness.run.freshness``). None in runs made before it existed."""
    # -- tool calls (issue 31): empty for a question offered no tools.
    tool_calls: list[ToolCallMade] = Field(default_factory=list)
    """The calls of the model's first response: what ``expect_call``/``no_call`` grade."""
    tool_call_ms: float | None = None
    """Request start to the end of the first response's last call fragment (the call complete, usable):
    the latency to the call. None when the first response made no call."""
    tool_steps: list[ToolStep] = Field(default_factory=list)
    """Multi-step answers: each round whose calls got scripted replies, in order; ``text`` is then the
    model's final answer after the last reply (what the ordinary checks score)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def answer(self) -> str:
        """What is scored and judged: the answer without the thinking (``reasoning`` never is)."""
        return "" if self.cut_off_thinking else self.text


class Phase(BaseModel):
    """One uninterrupted generation phase of one candidate (per run attempt).

    Throughput is computed over the sum of phase wall times, so a resumed run
    does not count the time it was down.
    """

    schema_version: int = SCHEMA_VERSION
    candidate: str
    started_at: float
    ended_at: float
    requests: int
    """Requests completed in this phase (ok or failed)."""
    server_start_s: float | None = None
    api: Literal["chat", "completions"] | None = None
    error: str | None = None
    """Set when the candidate could not be served in this phase, or its answers stopped early (and why)."""


class CheckResult(BaseModel):
    type: str
    weight: float
    score: float
    """In [0, 1]."""
    passed: bool
    explanation: str
    critical: bool = False
    constraint: bool = False
    """The check only constrains the answer (not_contains, max_chars, ...): it can take credit
    away but earns none on its own (see ``registry.combine``)."""
    optional: bool = False
    """Copied from the check's spec: the answer may be acceptable without this part."""


ArgErrorKind = Literal["missing", "wrong_value", "wrong_type", "invented"]
ARG_ERROR_KINDS: tuple[ArgErrorKind, ...] = ("missing", "wrong_value", "wrong_type", "invented")
CallOutcome = Literal["right", "wrong_call", "missed_call", "unexpected_call", "no_call_right", "unparsable"]
CALL_OUTCOMES: tuple[CallOutcome, ...] = (
    "right", "wrong_call", "missed_call", "unexpected_call", "no_call_right", "unparsable",
)  # fmt: skip
"""``right``: the calls match ``expect_call`` exactly (the right functions, the right arguments, none
missing, none extra). ``wrong_call``: a call to another function, with wrong arguments, an expected call
not made while another was, or an extra call (also a call repeated with the same arguments after the tool
replied, in a later round of a multi-step answer). ``missed_call``: calls were expected and none was made.
``unexpected_call``: ``no_call`` and a call was made. ``no_call_right``: ``no_call`` and none was made.
``unparsable``: a call's arguments are not a JSON object, or the stream could not be read whole (whatever
the question expected)."""


@dataclass(frozen=True)
class ArgError:
    """One argument that differs from the expectation (:mod:`harness.rubric.tool_args`)."""

    kind: ArgErrorKind
    path: str
    """The argument: ``days``, ``machine.id``, ``items[0].amount``."""
    why: str
    """One sentence: what was expected and what was passed."""


class CallPair(BaseModel):
    """An expected call and the made call paired with it."""

    model_config = ConfigDict(frozen=True)

    expected: int
    """Index in the question's ``expect_call``."""
    made: int
    """Index in the made calls (``Generation.tool_calls``)."""
    same_function: bool
    errors: list[ArgError] = Field(default_factory=list)
    """The argument errors (only for a call to the expected function)."""

    @property
    def right(self) -> bool:
        return self.same_function and not self.errors


class CallGrade(BaseModel):
    """The grade of one response's tool calls (:func:`harness.rubric.tool_calls.grade_calls`), as stored on
    its :class:`Score` (docs/tools.md, "Grading a response's calls")."""

    model_config = ConfigDict(frozen=True)

    outcome: CallOutcome
    expects: Literal["calls", "no_call"]
    """What the question expected: ``expect_call`` (calls) or ``no_call``."""
    made: int
    """How many calls the response made."""
    in_text: int = 0
    """How many of them the model wrote in its answer's text rather than through the server's tool-call
    protocol (``ToolCallMade.from_text``: a ``<tool_call>`` block or plain JSON; docs/tools.md, "Calls
    written in the text"). 0 in runs made before it was recorded."""
    parsed: bool
    """Whether every call's arguments parsed as a JSON object."""
    reason: str
    """One sentence: why the outcome (the unparsable call and its error, the differing argument...)."""
    pairs: list[CallPair] = Field(default_factory=list)
    missing: list[int] = Field(default_factory=list)
    """Indices of expected calls no made call was paired with."""
    extra: list[int] = Field(default_factory=list)
    """Indices of made calls paired with no expected call (extra calls and duplicates)."""

    @property
    def right(self) -> bool:
        """The calls are what the question asks: ``right``, or ``no_call_right``."""
        return self.outcome in ("right", "no_call_right")

    @property
    def arg_errors(self) -> list[ArgError]:
        """Every argument error of the calls paired with a call to the same function."""
        return [e for p in self.pairs for e in p.errors]


class Score(AnswerRef):
    score: float | None
    """Weighted rubric score in [0, 1]; None when the question has no checks (nor graded calls)."""
    essentials_passed: bool | None = None
    """Whether every essential (not ``optional``) check that applies passed: the answer's acceptability
    (``registry.verdict``). None when the rubric has no essential content check (or no checks, or the
    record predates the rule): then the score against the plan's ``rubric_pass_threshold`` decides."""
    checks: list[CheckResult] = Field(default_factory=list)
    error: str | None = None
    """Copied from the generation: a failed generation scores 0."""
    faithfulness: CheckResult | None = None
    """For answers given retrieved material: the ``faithful`` check, reported beside (not in) the rubric score."""
    context_hit: bool | None = None
    """Whether one of the passages given held the question's ``source`` (None: no material, or no source named)."""
    context_rank: int | None = None
    """The rank (1 = best) of the first passage given that held the question's ``source``; None when none
    did, no material was given or the question names no source. The retrieval figures' MRR reads it."""
    cut_off_thinking: bool = False
    """The answer was cut off while thinking: scored 0 without running the checks."""
    calls: CallGrade | None = None
    """The grade of the first response's tool calls, for a question with ``expect_call`` or ``no_call``
    (None otherwise, and for a failed answer). A wrong call makes the answer score 0 and not acceptable
    (docs/tools.md, "How a call enters the grade")."""


class Judgment(BaseModel):
    """One judge verdict: a single grade, a pairwise comparison in one order, or an injection probe."""

    schema_version: int = SCHEMA_VERSION
    key: str
    """Unique per run; the resume key (see harness.scoring.judge.work)."""
    kind: Literal["single", "pairwise", "injection"]
    set_id: str
    question_id: str
    sample: int
    candidates: list[str]
    """single/injection: [candidate]; pairwise: [shown as A, shown as B]."""
    trial: int = 0
    """0 = first judgment, 1 = test-retest repeat."""
    attack: str | None = None
    """Injection fixture id (kind == injection)."""
    prompt_version: str
    seed: int
    raw: str = ""
    """The judge's reply, verbatim."""
    parsed: bool = False
    score: float | None = None
    """single/injection: the grade on 1..scale."""
    verdict: Literal["A", "B", "tie"] | None = None
    """pairwise: the verdict as shown to the judge."""
    attempts: int = 1
    """2 when the first reply could not be parsed and the judge was asked once more."""
    error: str | None = None
    reasoning: str | None = None
    """A reasoning judge's own thinking, kept apart from ``raw``: its verdict is parsed from ``raw`` only."""
    judge: str | None = None
    """The name of the judge that gave it; None in runs judged before panels (their one judge)."""
    wait_ms: float | None = None
    """Time the judge's server made this verdict wait between attempts, over its asks (a ``Retry-After``, a
    model still loading, backoff; docs/reliability.md). None in runs made before it was recorded."""


# --------------------------------------------------------------------------
# Human review (docs/review.md): people's grades of answers
# --------------------------------------------------------------------------

REVIEW_FORMAT = "harness-review"
"""The ``format`` field of a review file (the page's export, ``harness review add``'s input)."""
REVIEW_FILE_VERSION = 1
GRADE_MIN, GRADE_MAX = 1, 10
"""The optional human grade's scale, inclusive."""


def answer_sha256(text: str) -> str:
    """Hex sha256 of an answer's UTF-8 text (:attr:`Generation.answer`: the answer without its thinking).

    A human grade carries it, so it can never attach to an answer whose text has changed.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class HumanGrade(BaseModel):
    """One person's grade of one answer: a line of the run's ``reviews.jsonl`` (``harness review add``)."""

    schema_version: int = SCHEMA_VERSION
    key: str
    """The answer's generation key (``candidate/set/question/sample[/variant]``)."""
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """:func:`answer_sha256` of the answer as the reviewer saw it."""
    reviewer: str = Field(min_length=1)
    acceptable: bool
    """Would the reviewer accept this answer from the assistant, as is."""
    grade: int | None = Field(default=None, ge=GRADE_MIN, le=GRADE_MAX)
    """Optional 1-10 grade (10 best)."""
    note: str = ""
    graded_at: str | None = None
    """When the reviewer graded it (ISO 8601, as the page recorded it)."""
    blind: bool = True
    """Whether candidate and variant names were hidden from the reviewer."""
    source: str = ""
    """The file it came from (its name), for the record."""


Api = Literal["chat", "completions"]
"""The OpenAI-compatible endpoint a request goes to: ``/v1/chat/completions`` or ``/v1/completions``."""


@dataclass(frozen=True)
class Request:
    api: Api
    messages: list[dict[str, Any]] | None = None
    """Chat messages; an assistant message may carry ``tool_calls`` and a ``tool`` message the reply."""
    prompt: str | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | None = None
    ignore_eos: bool = False
    """vLLM extension: keep generating to max_tokens (load tests with equal output lengths)."""
    chat_template_kwargs: dict[str, Any] | None = None
    """Chat only: passed to the chat template (``{enable_thinking: false}`` switches Qwen3/GLM thinking off)."""
    reasoning_effort: str | None = None
    """Chat only: ``low``/``medium``/``high`` for models that take it (gpt-oss)."""
    tools: list[dict[str, Any]] | None = None
    """Chat only: OpenAI ``tools`` (``{"type": "function", "function": {...}}`` each), sent with
    ``tool_choice: "auto"``."""


def single_key(gen_key: str, trial: int) -> str:
    """The key of a single grade of the answer ``gen_key`` (trial 0: first grade, 1: retest)."""
    return f"single/{gen_key}/t{trial}"


def injection_key(attack: str, gen_key: str) -> str:
    """The key of an injection probe: the answer ``gen_key`` with the attack fixture ``attack`` appended."""
    return f"inject/{attack}/{gen_key}"


def clean_key_of(key: str) -> str:
    """``inject/<attack>/<generation key>`` -> the key of the clean single judgment of the same answer."""
    return single_key(key.split("/", 2)[2], 0)


class RequestTiming(BaseModel):
    """Timings and token counts of one streamed request: the load sweep's record, and the shape
    every request carries (the client's ``Result`` is one; ``Generation`` declares the same fields
    in its own order, so its JSON keys stay where they were: see :func:`timing_fields`)."""

    ttft_ms: float | None = None
    """Request start to the first token, thinking included (as ``vllm bench serve``)."""
    e2e_ms: float | None = None
    """Request start to the last chunk."""
    itl_ms: list[float] = Field(default_factory=list)
    """Gaps between consecutive content chunks."""
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    """Every output token, thinking included; None: unknown (no usage and no tokenizer), never 0."""
    error: str | None = None
    """Set when the request failed; the timings are then not measured."""
    output_tokens_source: Literal["server", "tokenizer"] | None = None
    """Who counted ``output_tokens``: the server's usage, or the candidate's tokenizer when it sent none."""


def timing_fields(source: object) -> dict[str, Any]:
    """The :class:`RequestTiming` fields of any object that carries them (a client ``Result``), by name.

    Raises ``AttributeError`` naming the first field ``source`` lacks.
    """
    return {name: getattr(source, name) for name in RequestTiming.model_fields}


class LevelGuards(BaseModel):
    """Whether a load level measured the server and not the client (harness/run/perf/guards.py)."""

    workers: int = 1
    """Client processes that sent the level."""
    client_cpu_s: float | None = None
    client_cpu_frac: float | None = None
    """Client CPU seconds / (wall seconds x workers); near 1 the client itself was the limit."""
    dispatch_delay_ms: dict[str, float | None] = Field(default_factory=dict)
    """Rate levels: each request's send minus its Poisson schedule (p50, p99, max)."""
    late_sends: int = 0
    """Rate levels: requests sent more than the guard's tolerance behind their schedule."""
    ttft_growth: float | None = None
    """Median TTFT of the last third of requests (by send) / that of the first third."""
    oversaturated: bool = False
    """TTFT grew through the level: the server's queue was still growing, so higher loads only fail."""
    problems: list[str] = Field(default_factory=list)
    """One line each; empty when the level is valid."""


class LevelCalls(BaseModel):
    """The tool calls made at one load level (or one run of a capacity point), graded after the level.

    Over the level's requests to questions that grade calls (``expect_call`` or ``no_call``), sent on the chat
    API with their tools; only each request's first response counts (no scripted reply is sent back under
    load). Each answered request is graded by :func:`harness.rubric.tool_calls.grade_calls` as the scoring
    stage grades an answer; the counts are its outcomes and the rates those of
    :func:`harness.rubric.tool_figures.call_figures` (None where the denominator is 0).
    """

    responses: int
    """Responses graded: requests to such questions that were answered (a failed request is in ``failed``)."""
    expect_call_responses: int
    """Graded responses to questions with ``expect_call``: the denominator of ``call_accuracy``."""
    right: int = 0
    wrong_call: int = 0
    """Responses that called another function, with wrong arguments, or an extra call."""
    missed_call: int = 0
    """Responses that made no call where one was expected."""
    unexpected_call: int = 0
    """Responses that called where the question is to be answered directly (``no_call``)."""
    no_call_right: int = 0
    unparsable: int = 0
    """Responses with a call that could not be read (malformed stream, arguments not a JSON object)."""
    failed: int = 0
    """Requests to such questions that failed (an error, no response to grade)."""
    call_accuracy: float | None = None
    """right / expect_call_responses."""
    unparsable_share: float | None = None
    """unparsable / responses."""


class LoadLevel(BaseModel):
    """One load level of the sweep for one candidate, written when the level completes."""

    schema_version: int = SCHEMA_VERSION
    candidate: str
    level_id: str
    """``c16`` (16 concurrent requests) or ``r2.5`` (Poisson, 2.5 requests/s)."""
    kind: Literal["concurrency", "rate"]
    value: float
    started_at: float
    wall_s: float
    """First send to last answer."""
    requests: list[RequestTiming]
    guards: LevelGuards | None = None
    """Validity of the level (absent in records written before the guards)."""
    stopped: str | None = None
    """Why the level was cut before every request was answered (the online over-saturation stop); None: it ran out.
    A cut level's figures cover the answers it got, not a steady state."""
    unsent: int = 0
    """Requests a cut level never sent."""
    cut: int = 0
    """Requests a cut level sent and cancelled before their answer ended (not in ``requests``)."""
    skipped: str | None = None
    """Why the level was not sent at all (e.g. ``over-saturated at r8``); it then has no requests and no figures."""
    calls: LevelCalls | None = None
    """The level's tool calls, graded; None when none of its requests was to a question that grades calls (and in
    records written before calls were graded at load)."""


# ---------------------------------------------------------------- projections the roll-up reads


class CheckView(TypedDict):
    """The fields of a :class:`CheckResult` the roll-up reads."""

    type: str
    passed: bool
    critical: bool
    explanation: str


class FaithfulnessView(TypedDict):
    score: float | None
    explanation: str
    """Why the score (the ``faithful`` check's reason), shown beside it in the drill-down."""


class ScoreView(TypedDict):
    """The fields of a :class:`Score` the roll-up reads (``harness.rollup.frames.answers_frame``)."""

    schema_version: int
    key: str
    score: float | None
    essentials_passed: bool | None
    checks: list[CheckView]
    faithfulness: FaithfulnessView | None
    context_hit: bool | None
    context_rank: NotRequired[int | None]
    """Absent from scores written before the retrieval figures."""
    calls: CallGrade | None


class GenerationView(TypedDict):
    """The fields of a :class:`Generation` the roll-up reads (``harness.rollup.frames.answers_frame``)."""

    schema_version: int
    key: str
    candidate: str
    set_id: str
    question_id: str
    sample: int
    variant: str
    api: str
    text: str
    prompt_tokens: int | None
    output_tokens: int | None
    output_tokens_source: str | None
    ttft_ms: float | None
    e2e_ms: float | None
    error: str | None
    context_ids: list[str]
    reasoning: str | None
    reasoning_tokens: int | None
    answer_tokens: int | None
    token_split: str | None
    ttfat_ms: float | None
    cut_off_thinking: bool
    attempts: int
    wait_ms: float | None
    tool_call_ms: float | None


GENERATION_VIEW: TypeAdapter[GenerationView] = TypeAdapter(GenerationView)
SCORE_VIEW: TypeAdapter[ScoreView] = TypeAdapter(ScoreView)
