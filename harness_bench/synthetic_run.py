"""Synthetic run generator: a complete run directory without any model server.

The report stage (``harness report RUN_DIR``) only reads files, so a run of any
size can be made up here to measure the roll-up and report at scale (``make
bench-report``) and to give tests a realistic run in a second. Everything the
real stages write is written, in the same shapes: question sets (valid for
``harness validate``), ``plan.yaml``, ``manifest.json``, ``generations.jsonl``,
``scores.jsonl``, ``phases.jsonl`` and, with perf, ``loadtest.jsonl`` and
``perf.jsonl``.

The statistics are those a reviewer expects of a real run, so that every part
of the report has something to show. Each model has an ability, each question a
difficulty and each (model, question) pair an affinity; each sample adds noise.
The sum picks one of four answer texts (right, right number only, keyword only,
wrong or a refusal), and the scores come from the real rubric applied to those
texts, so ``harness score`` on the run reproduces ``scores.jsonl`` exactly. Near
the acceptable threshold (0.5) answers flip between samples; far from it they
are stably right or stably wrong. A small share of requests fail (error set,
score 0). Timings follow each model's size: bigger models are slower per token
and cost more GPUs.

Deterministic for a seed (numpy ``default_rng``), except the manifest's host
and package versions, which describe the machine that wrote it.

    python -m harness_bench.synthetic_run RUN_DIR --models 20 --questions 2000 --samples 5 --seed 0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from harness.inputs.plan import LoadedPlan, load_plan
from harness.manifest_records import CandidateEntry, RunManifest
from harness.perf_records import GpuSummary, MemorySummary, MetricsSummary, PerfRecord, ServerLogFacts
from harness.records import (
    Candidate,
    Generation,
    LoadLevel,
    Perf,
    Phase,
    Plan,
    Question,
    RequestTiming,
    Sampling,
    Score,
    Slo,
    Sweep,
    VllmArgs,
)
from harness.records import Limits as PlanLimits
from harness.rubric import score_answer, verdict
from harness.run.manifest import open_manifest
from harness.rundir import GENERATIONS, LOADTEST, MANIFEST, PERF, PHASES, SCORES, save_manifest
from harness.server.client import Api
from harness.server.vllm_server import vllm_command
from harness.store import atomic_write_text, write_records

PLAN_FILE = "plan.yaml"
SETS_DIR = "sets"
EPOCH_S = 1_767_225_600.0
"""2026-01-01 00:00 UTC: the synthetic run starts here, so every timestamp is reproducible."""
LEVEL_CUTS = (-0.6, 0.0, 0.6)
"""Latent quality -> answer level 0 (wrong), 1 (keyword only), 2 (number only), 3 (right).

With a number check (weight 1) and a keyword check (weight 0.5, essential) the levels score
0, 1/3, 2/3 and 1; only level 3 is acceptable (every essential check passes), while level 2
scores above the old threshold 0.5: the half-answers a score threshold let through."""
GPU_NAME = "L40S"
GPU_TOTAL_GIB = 44.99
GENERATION_CONCURRENCY = 16
MAX_TOKENS = 256
MAX_MODEL_LEN = 4096
SWEEP = Sweep(concurrency=[1, 4, 16], requests_per_level=32, max_tokens=64)
SLO = Slo(ttft_ms=1500, tpot_ms=60, e2e_ms=8000, attainment=0.9)
SYNTHETIC_GIT: dict[str, Any] = {"commit": None, "dirty": None}
ERRORS = (
    "timed out after 120 s",
    "connection error: RemoteProtocolError: Server disconnected without sending a response.",
    "HTTP 503: Service Unavailable",
)
"""Failed requests say what the client says (harness.server.client), in turn."""
JSON_SEPARATORS = (",", ":")


# --------------------------------------------------------------------------
# Question content: topics per language, with digit-free subjects so that the
# only number in an answer is the one the rubric looks for.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    slug: str
    category: str
    unit: str
    low: int
    high: int
    qualifiers: tuple[str, ...]
    subjects: tuple[str, ...]
    """Templates with ``{q}`` for a qualifier."""
    keywords: tuple[str, ...]
    """Accepted phrases; answers use the first."""


@dataclass(frozen=True)
class Language:
    code: str
    title: str
    context: str
    ask: str
    right: str
    number_only: str
    keyword_only: str
    wrong: str
    refusal: str
    filler: str
    """Appended by verbose models: no digits and no keyword, so it never changes a score."""
    topics: tuple[Topic, ...]


ZH = Language(
    code="zh",
    title="合成制度问答",
    context="《合成公司员工手册（节选）》本资料为基准测试自动生成，条款内容与数字均为虚构。",
    ask="{subject}是多少{unit}？办理时需要注意什么？（第{n}题）",
    right="{subject}为{value}{unit}，并且需要{keyword}。",
    number_only="{subject}为{value}{unit}。",
    keyword_only="{subject}为{value}{unit}，并且需要{keyword}。",
    wrong="{subject}为{value}{unit}。",
    refusal="资料中没有找到相关规定，建议咨询人事部门。",
    filler="以上回答依据所给资料整理；如遇特殊情况，请以公司最新通知为准。",
    topics=(
        Topic("leave", "年假", "天", 1, 25, ("新入职员工", "资深员工", "经理级员工", "外派员工", "返聘员工"),
              ("{q}每年的带薪年假", "{q}可结转的年假", "{q}的福利年假上限"), ("在OA系统提交申请", "OA系统申请")),
        Topic("overtime", "加班", "小时", 4, 80, ("生产员工", "研发人员", "客服坐席", "仓储人员"),
              ("{q}每月的加班上限", "{q}单日延长工时的上限"), ("直属主管审批", "主管审批")),
        Topic("travel", "差旅报销", "元", 80, 1500, ("北上广深", "省会城市", "地级市", "境外城市"),
              ("{q}的每晚住宿标准", "{q}的每日伙食补助", "{q}的市内交通费上限"), ("增值税专用发票", "专用发票")),
        Topic("safety", "设备安全", "分钟", 5, 120, ("注塑机", "冲压机", "回流焊炉", "空压机"),
              ("{q}停机后的冷却时间", "{q}的点检间隔"), ("上锁挂牌", "挂牌上锁")),
        Topic("quality", "质量检验", "件", 3, 200, ("来料批次", "量产批次", "返工批次", "客户退货批次"),
              ("{q}的抽检数量", "{q}的留样数量"), ("首件检验", "首检")),
    ),
)  # fmt: skip

EN = Language(
    code="en",
    title="Synthetic customer support Q&A",
    context="Help-center excerpt generated for the report benchmark; every rule and figure in it is made up.",
    ask="What is the {subject}, and what will the customer need? (question {n})",
    right="The {subject} is {value} {unit}. Please keep the {keyword} at hand.",
    number_only="The {subject} is {value} {unit}.",
    keyword_only="The {subject} is {value} {unit}. Please keep the {keyword} at hand.",
    wrong="The {subject} is {value} {unit}.",
    refusal="I could not find this in the help-center excerpt; please contact support.",
    filler="This answer is based on the excerpt above; policies change, so check the latest help-center page.",
    topics=(
        Topic("billing", "Plans & billing", "USD", 5, 300, ("Starter", "Plus", "Pro", "Family", "Business"),
              ("monthly price of the {q} plan", "upgrade fee for the {q} plan"),
              ("prorated amount", "prorated charge")),
        Topic("shipping", "Shipping", "days", 1, 30, ("Canada", "the UK", "the EU", "Alaska", "Hawaii"),
              ("standard delivery time to {q}", "express delivery time to {q}"), ("tracking number", "tracking link")),
        Topic("returns", "Returns & refunds", "days", 7, 90, ("opened hubs", "unopened cameras", "door sensors"),
              ("return window for {q}", "refund processing time for {q}"), ("original payment method",)),
        Topic("warranty", "Warranty", "months", 6, 60, ("the hub", "outdoor cameras", "power adapters"),
              ("warranty period for {q}", "extended warranty for {q}"), ("serial number", "proof of purchase")),
        Topic("account", "Account access", "minutes", 5, 120, ("the mobile app", "the web portal", "the admin console"),
              ("lockout time after failed sign-ins on {q}", "reset link validity on {q}"),
              ("two-factor authentication", "2FA")),
    ),
)  # fmt: skip

LANGUAGES = (ZH, EN)


@dataclass(frozen=True)
class SynthQuestion:
    """What the generator needs to write answers to one question: its set, its subject and its numbers."""

    set_id: str
    id: str
    lang: Language
    topic: Topic
    subject: str
    value: int
    wrong: int
    """A plausible wrong figure, used by the answers that get the number wrong."""
    refuses: bool
    """Whether the wrong answer to this question is a refusal rather than a wrong figure."""


# --------------------------------------------------------------------------
# Candidates: size decides ability, speed, GPUs and memory.
# --------------------------------------------------------------------------

FAMILIES = ("qwen", "llama", "gemma", "mistral", "phi", "yi", "glm", "internlm", "deepseek", "baichuan")
SIZES_B = (0.5, 1.5, 3.0, 7.0, 8.0, 14.0, 32.0, 70.0)
PRICES_USD_PER_GPU_HOUR = (0.79, 0.99, 1.2, 1.6, 2.1)


@dataclass(frozen=True)
class SynthModel:
    name: str
    size_b: float
    tp: int
    price_usd_per_gpu_hour: float
    api: Api
    ability: float
    noise_sd: float
    """How much a sample's quality varies around the model's mean: its (in)stability."""
    verbose: bool
    mean_output_tokens: float
    tpot_ms: float
    """Time per output token at the generation concurrency."""
    prefill_ms_per_token: float
    batching: float
    """Concurrency at which time per token has doubled from concurrency 1."""
    fail_rate: float
    """Share of requests that fail at random."""
    outage: bool
    """One run of consecutive failures (about 1% of its requests): a server hiccup, as real runs see."""
    server_start_s: float


def make_models(n: int, rng: np.random.Generator) -> list[SynthModel]:
    out = []
    for i in range(n):
        size = float(SIZES_B[int(rng.integers(len(SIZES_B)))])
        tp = 1 if size <= 14 else 2 if size <= 32 else 4
        base = bool(rng.random() < 0.2)
        size_txt = f"{size:g}"
        out.append(
            SynthModel(
                name=f"m{i:02d}-{FAMILIES[i % len(FAMILIES)]}-{size_txt}b" + ("-base" if base else ""),
                size_b=size,
                tp=tp,
                price_usd_per_gpu_hour=float(rng.choice(PRICES_USD_PER_GPU_HOUR)),
                api="completions" if base else "chat",
                ability=0.4 * math.log2(size) - 0.9 - (0.5 if base else 0.0) + float(rng.normal(0, 0.3)),
                noise_sd=float(rng.uniform(0.3, 0.9)),
                verbose=bool(rng.random() < 0.5),
                mean_output_tokens=float(rng.uniform(40, 160)),
                tpot_ms=(6 + 1.4 * size / tp) * float(rng.uniform(0.8, 1.25)),
                prefill_ms_per_token=0.02 * (1 + size / tp) * float(rng.uniform(0.8, 1.25)),
                batching=float(rng.uniform(8, 40)),
                fail_rate=0.002,
                outage=i == min(1, n - 1),
                server_start_s=float(rng.uniform(25, 60) + 2 * size),
            )
        )
    return out


# --------------------------------------------------------------------------
# Question sets and plan (YAML the real loaders validate).
# --------------------------------------------------------------------------


def split_evenly(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def make_questions(
    set_id: str, set_no: int, lang: Language, count: int, categories: int, rng: np.random.Generator
) -> list[SynthQuestion]:
    out = []
    for n in range(count):
        k = n % categories
        topic = lang.topics[k % len(lang.topics)]
        subject = topic.subjects[int(rng.integers(len(topic.subjects)))].format(
            q=topic.qualifiers[int(rng.integers(len(topic.qualifiers)))]
        )
        value = int(rng.integers(topic.low, topic.high + 1))
        step = max(1, round(value * float(rng.choice([0.1, 0.2, 0.5]))))
        wrong = value + step if rng.random() < 0.5 or value - step < 1 else value - step
        out.append(
            SynthQuestion(set_id, f"{topic.slug}-{set_no}-{n + 1:04d}", lang, topic, subject, value, wrong, n % 2 == 1)
        )
    return out


def category_name(lang: Language, k: int) -> str:
    """Category ``k`` of a set: the topics' names, numbered again when more categories than topics are asked."""
    name = lang.topics[k % len(lang.topics)].category
    return name if k < len(lang.topics) else f"{name} {k // len(lang.topics) + 1}"


def question_yaml(q: SynthQuestion, n: int, categories: int) -> dict[str, Any]:
    t, lang = q.topic, q.lang
    number: dict[str, Any] = {"type": "number", "value": q.value, "unit": t.unit}
    if n % 5 == 4:
        number["critical"] = True  # a wrong figure zeroes the answer, as for a safety limit
    out: dict[str, Any] = {
        "id": q.id,
        "category": category_name(lang, n % categories),
        "question": lang.ask.format(subject=q.subject, unit=t.unit, n=n + 1),
        "reference": lang.right.format(subject=q.subject, value=q.value, unit=t.unit, keyword=t.keywords[0]),
    }
    if n % 9 == 8:
        out["weight"] = 2
    out["checks"] = [number, {"type": "contains_any", "values": list(t.keywords), "weight": 0.5, "optional": False}]
    return out


def set_yaml(set_id: str, lang: Language, questions: list[SynthQuestion], categories: int) -> dict[str, Any]:
    used = {category_name(lang, n % categories) for n in range(len(questions))}
    first = category_name(lang, 0)
    return {
        "id": set_id,
        "title": f"{lang.title} ({set_id})",
        "language": lang.code,
        "description": "Generated by scripts/synthetic_run.py for tests and the report benchmark.",
        "context": lang.context,
        "category_weights": {first: 2} if len(used) > 1 else {},
        "questions": [question_yaml(q, n, categories) for n, q in enumerate(questions)],
    }


def dump_yaml(path: Path, data: Any) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000)
    atomic_write_text(path, text)


def make_plan(name: str, models: list[SynthModel], set_files: list[str], samples: int, seed: int) -> Plan:
    return Plan(
        name=name,
        description=f"Synthetic run (scripts/synthetic_run.py, seed {seed}): made-up answers, no model was served.",
        candidates=[
            Candidate(
                name=m.name,
                model=f"synthetic/{m.name}",
                vllm=VllmArgs(tensor_parallel_size=m.tp, max_model_len=MAX_MODEL_LEN, dtype="bfloat16"),
                price_per_gpu_hour_usd=m.price_usd_per_gpu_hour,
            )
            for m in models
        ],
        question_sets=set_files,
        sampling=Sampling(temperature=0.7, max_tokens=MAX_TOKENS, seed=seed, samples=samples),
        limits=PlanLimits(concurrency=GENERATION_CONCURRENCY),
        perf=Perf(slo=SLO, sweep=SWEEP, gpu=GPU_NAME),
    )


# --------------------------------------------------------------------------
# Answers: texts, scores from the real rubric, timings.
# --------------------------------------------------------------------------


def answer_text(q: SynthQuestion, level: int, verbose: bool) -> str:
    lang, t = q.lang, q.topic
    if level == 0 and q.refuses:
        text = lang.refusal
    else:
        template = (lang.wrong, lang.keyword_only, lang.number_only, lang.right)[level]
        value = q.value if level >= 2 else q.wrong
        text = template.format(subject=q.subject, value=value, unit=t.unit, keyword=t.keywords[0])
    return f"{text}{'' if lang.code == 'zh' else ' '}{lang.filler}" if verbose else text


class RubricCache:
    """Score each distinct (question, text) once with the real rubric.

    A question has at most eight generated texts, so 200,000 answers need about
    16,000 rubric runs instead of 200,000; the results are kept as JSON-ready dicts.
    """

    def __init__(self, questions: dict[str, Question]):
        self._questions = questions
        self._cache: dict[tuple[str, str], tuple[float | None, bool | None, list[dict[str, Any]]]] = {}

    def __call__(self, question_id: str, text: str) -> tuple[float | None, bool | None, list[dict[str, Any]]]:
        """The answer's score, its verdict (every essential check passed) and its check results."""
        key = (question_id, text)
        if key not in self._cache:
            value, results = score_answer(self._questions[question_id].checks, text)
            self._cache[key] = (value, verdict(results), [r.model_dump(mode="json") for r in results])
        return self._cache[key]


def _template(model: type[Generation] | type[Score], **required: Any) -> dict[str, Any]:
    """Every field of ``model`` in its declared order with its default: new fields with defaults come for free."""
    return model(**required).model_dump(mode="json")


def _dumps(record: dict[str, Any]) -> str:
    """One JSON line as ``model_dump_json`` writes it (no spaces, UTF-8 text)."""
    return json.dumps(record, ensure_ascii=False, separators=JSON_SEPARATORS)


@dataclass
class ModelRun:
    """What one model's answers add up to: its phase and its timing totals for perf.jsonl."""

    phase: Phase
    prompt_tokens: int
    output_tokens: int


def _round(values: np.ndarray, digits: int = 1) -> list[float]:
    return [float(v) for v in np.round(values, digits)]


@dataclass(frozen=True)
class Questions:
    """The questions every model answers, with what is fixed per question across models."""

    items: list[SynthQuestion]
    prompt_tokens: np.ndarray
    difficulty: np.ndarray
    """Subtracted from a model's ability: the same question is hard for every model."""
    samples: int
    seed: int
    rubric: RubricCache
    overrides: dict[tuple[int, str], str]


def failure_mask(m: SynthModel, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Random failures, plus for the model with an outage one run of consecutive ones (failures cluster in time)."""
    failed = rng.random(shape) < m.fail_rate
    if m.outage:
        run_n = max(1, round(0.01 * failed.size))
        start = int(rng.integers(0, failed.size - run_n + 1))
        failed.reshape(-1)[start : start + run_n] = True
    return failed


def model_answers(
    m: SynthModel, mi: int, qs: Questions, started_at: float, rng: np.random.Generator,
    gen_lines: list[str], score_lines: list[str],
) -> ModelRun:  # fmt: skip
    """Append one model's generation and score lines; arrays are drawn per model so the loops only format."""
    questions, samples, seed = qs.items, qs.samples, qs.seed
    shape = (len(questions), samples)
    affinity = rng.normal(0, 0.6, len(questions))[:, None]
    latent = m.ability - qs.difficulty[:, None] + affinity + rng.normal(0, m.noise_sd, shape)
    levels = np.digitize(latent, LEVEL_CUTS).tolist()
    failed = failure_mask(m, shape, rng).tolist()
    attempts = np.where(rng.random(shape) < 0.01, 2, 1).tolist()
    prompt = np.round(qs.prompt_tokens * rng.uniform(0.9, 1.15)).astype(int)
    out_tok = np.clip(np.round(rng.lognormal(math.log(m.mean_output_tokens), 0.4, shape)), 4, MAX_TOKENS).astype(int)
    ttft = (30 + prompt[:, None] * m.prefill_ms_per_token) * rng.lognormal(0, 0.3, shape) + rng.exponential(40, shape)
    e2e = ttft + (out_tok - 1) * m.tpot_ms * rng.lognormal(0, 0.08, shape)
    wall_s = float(e2e.sum()) / 1000 / GENERATION_CONCURRENCY * 1.03 + 1.0
    starts = started_at + rng.random(shape) * np.maximum(wall_s - e2e / 1000, 0)
    # nested lists of Python numbers: json.dumps formats them as pydantic would, numpy scalars it cannot
    ttft_rows, e2e_rows = np.round(ttft, 1).tolist(), np.round(e2e, 1).tolist()
    start_rows, out_l = np.round(starts, 3).tolist(), out_tok.tolist()
    gen_t = _template(Generation, key="", candidate="", set_id="", question_id="", sample=0, api="chat", seed=0)
    score_t = _template(Score, key="", candidate="", set_id="", question_id="", sample=0, score=None)
    ok_prompt, ok_out = 0, 0
    for qi, q in enumerate(questions):
        forced = qs.overrides.get((mi, q.id))
        for s in range(samples):
            key = f"{m.name}/{q.set_id}/{q.id}/{s}"
            ref = {"key": key, "candidate": m.name, "set_id": q.set_id, "question_id": q.id, "sample": s}
            gen = {**gen_t, **ref, "api": m.api, "seed": seed + s, "started_at": start_rows[qi][s]}
            score = {**score_t, **ref}
            if failed[qi][s] and forced is None:
                error = ERRORS[(qi + s) % len(ERRORS)]
                gen.update(attempts=3, error=error)
                score.update(score=0.0, essentials_passed=False, error=error)
            else:
                text = forced if forced is not None else answer_text(q, levels[qi][s], m.verbose)
                n_out = out_l[qi][s]
                gen.update(text=text, finish_reason="length" if n_out >= MAX_TOKENS else "stop",
                           prompt_tokens=int(prompt[qi]), output_tokens=n_out, ttft_ms=ttft_rows[qi][s],
                           e2e_ms=e2e_rows[qi][s], attempts=attempts[qi][s])  # fmt: skip
                score["score"], score["essentials_passed"], score["checks"] = qs.rubric(q.id, text)
                ok_prompt += int(prompt[qi])
                ok_out += n_out
            gen_lines.append(_dumps(gen))
            score_lines.append(_dumps(score))
    phase = Phase(candidate=m.name, started_at=started_at, ended_at=started_at + wall_s,
                  requests=len(questions) * samples, server_start_s=round(m.server_start_s, 1), api=m.api)  # fmt: skip
    return ModelRun(phase, ok_prompt, ok_out)


# --------------------------------------------------------------------------
# Performance: load sweep and what the server used.
# --------------------------------------------------------------------------


def sweep_levels(m: SynthModel, started_at: float, prompt_mean: float, rng: np.random.Generator) -> list[LoadLevel]:
    """The plan's concurrency levels: per-token time grows with concurrency as batching saturates."""
    out = []
    n, tokens = SWEEP.requests_per_level, SWEEP.max_tokens or MAX_TOKENS
    tpot_c1 = m.tpot_ms / (1 + GENERATION_CONCURRENCY / m.batching)
    t = started_at
    for c in SWEEP.concurrency:
        tpot = tpot_c1 * (1 + c / m.batching)
        ttft = (30 + prompt_mean * m.prefill_ms_per_token) * (1 + c / 8) * rng.lognormal(0, 0.25, n)
        gaps = np.maximum(rng.normal(tpot, 0.12 * tpot, (n, tokens - 1)), 0.1)
        e2e = ttft + gaps.sum(axis=1)
        wall_s = float(e2e.sum()) / 1000 / c * 1.02
        requests = [
            RequestTiming(
                ttft_ms=float(ttft[i]),
                e2e_ms=float(e2e[i]),
                itl_ms=_round(gaps[i], 2),
                prompt_tokens=round(prompt_mean),
                output_tokens=tokens,
            )
            for i in range(n)
        ]
        out.append(LoadLevel(candidate=m.name, level_id=f"c{c}", kind="concurrency", value=c, started_at=t,
                             wall_s=wall_s, requests=requests))  # fmt: skip
        t += wall_s + 0.5
    return out


def perf_record(m: SynthModel, run: ModelRun, sweep_s: float, rng: np.random.Generator) -> PerfRecord:
    """NVML memory, /metrics peaks and server-log facts as a GPU server of this size would report them."""
    duration_s = run.phase.ended_at - run.phase.started_at + sweep_s
    weights_gib = m.size_b * 2e9 / 2**30
    kv_gib = (0.9 * GPU_TOTAL_GIB * m.tp - weights_gib) / m.tp
    kv_bytes_per_token = 2 * 2 * 1024 * (16 + 1.2 * m.size_b)  # K and V, bf16, a plausible width
    kv_tokens = int(kv_gib * m.tp * 2**30 / kv_bytes_per_token)
    peak_kv = float(rng.uniform(0.05, 0.6))
    power = [float(rng.uniform(180, 330)) for _ in range(m.tp)]
    gpus = [
        GpuSummary(
            index=i,
            name=f"NVIDIA {GPU_NAME}",
            total_gib=GPU_TOTAL_GIB,
            peak_used_gib=0.91 * GPU_TOTAL_GIB,
            mean_util_pct=float(rng.uniform(55, 95)),
            mean_power_w=p,
            energy_j=p * duration_s,
        )
        for i, p in enumerate(power)
    ]
    memory = MemorySummary(
        source="nvml", duration_s=duration_s, samples=int(duration_s / 0.5), gpus=gpus,
        total_gib=GPU_TOTAL_GIB * m.tp, peak_used_gib=0.91 * GPU_TOTAL_GIB * m.tp, mean_power_w=sum(power),
        energy_j=sum(power) * duration_s, peak_rss_gib=float(rng.uniform(3, 7)),
        mean_rss_gib=float(rng.uniform(2.5, 3)),
    )  # fmt: skip
    metrics = MetricsSummary(
        scrapes=int(duration_s / 0.5), duration_s=duration_s, peak_kv_cache_usage_frac=peak_kv,
        peak_requests_running=GENERATION_CONCURRENCY, peak_requests_waiting=int(rng.integers(0, 8)),
        prompt_tokens=float(run.prompt_tokens), generation_tokens=float(run.output_tokens),
        kv_cache_size_tokens=kv_tokens, kv_cache_max_concurrency=kv_tokens / MAX_MODEL_LEN,
    )  # fmt: skip
    server = ServerLogFacts(
        vllm_version="0.11.0", weights_gib=weights_gib, load_s=float(rng.uniform(5, 20) + m.size_b / 4),
        checkpoint_gib=weights_gib, kv_cache_gib=kv_gib, kv_cache_device="GPU", kv_cache_tokens=kv_tokens,
        max_concurrency=kv_tokens / MAX_MODEL_LEN, max_concurrency_len=MAX_MODEL_LEN,
        peak_kv_cache_usage_pct=round(peak_kv * 100, 1), peak_requests_running=GENERATION_CONCURRENCY,
        peak_requests_waiting=0,
    )  # fmt: skip
    return PerfRecord(
        candidate=m.name,
        started_at=run.phase.started_at,
        memory=memory,
        metrics=metrics,
        server=server,
    )


# --------------------------------------------------------------------------
# Manifest and the whole run.
# --------------------------------------------------------------------------


def write_manifest(run_dir: Path, lp: LoadedPlan, models: list[SynthModel], phases: list[Phase]) -> RunManifest:
    """The manifest exactly as a run writes it (``open_manifest``), with the synthetic candidates filled in.

    The commit is given, not asked of git: a synthetic run has no commit of its own, and
    ``git status`` takes the repository's index lock, which would race with a
    commit made while tests or the benchmark run.
    """
    manifest = open_manifest(lp, run_dir, git=dict(SYNTHETIC_GIT))
    manifest.created_at = EPOCH_S
    manifest.sessions[-1].started_at = EPOCH_S
    start_s = {p.candidate: p.server_start_s for p in phases}
    for m, cand in zip(models, lp.plan.candidates, strict=True):
        manifest.candidates[m.name] = CandidateEntry(
            model=cand.model,
            api=m.api,
            api_reason="probed the endpoint",
            chat_template=None,
            base_url=None,
            server_start_s=start_s.get(m.name),
            server_command=vllm_command(cand.model, cand, 0, None)[1:],
            error=None,
        )
    save_manifest(run_dir, manifest)
    return manifest


def _prompt_tokens(questions: list[SynthQuestion], rng: np.random.Generator) -> np.ndarray:
    """Prompt length per question: a shared policy context (zh ~ 700, en ~ 900 tokens) plus the question."""
    base = {"zh": 700, "en": 900}
    return np.array([base[q.lang.code] + int(rng.integers(20, 60)) for q in questions], dtype=float)


def _seed_streams(seed: int, n: int) -> Iterator[np.random.Generator]:
    """Independent streams (models, questions, then one per model) so each part is reproducible on its own."""
    for child in np.random.SeedSequence(seed).spawn(n):
        yield np.random.default_rng(child)


def write_synthetic_run(
    run_dir: Path,
    models: int = 3,
    questions: int = 30,
    samples: int = 3,
    seed: int = 0,
    sets: int = 2,
    categories: int = 5,
    answer_texts: dict[tuple[int, str], str] | None = None,
    with_perf: bool = True,
) -> Path:
    """Write a complete run of ``models`` x ``questions`` (over all sets) x ``samples`` answers into ``run_dir``.

    ``answer_texts`` maps (model index, question id) to a text every sample of
    that question from that model answers with (never a failed request), e.g.
    markup to test the report's escaping. Refuses a directory that already holds
    a run. Returns ``run_dir``.
    """
    if models < 1 or samples < 1 or sets < 1 or categories < 1 or questions < sets:
        raise ValueError("need models, samples, sets, categories >= 1 and at least one question per set")
    run_dir = Path(run_dir).resolve()
    if (run_dir / MANIFEST).exists():
        raise FileExistsError(f"{run_dir} already holds a run ({MANIFEST}); choose an empty directory")
    model_rng, question_rng, *answer_rngs = _seed_streams(seed, 2 + models)
    synth_models = make_models(models, model_rng)

    all_questions: list[SynthQuestion] = []
    set_files = []
    for k, count in enumerate(split_evenly(questions, sets)):
        lang = LANGUAGES[k % len(LANGUAGES)]
        set_id = f"synthetic_{lang.code}_{k + 1}"
        qs = make_questions(set_id, k + 1, lang, count, categories, question_rng)
        dump_yaml(run_dir / SETS_DIR / f"{set_id}.yaml", set_yaml(set_id, lang, qs, categories))
        set_files.append(f"{SETS_DIR}/{set_id}.yaml")
        all_questions += qs
    plan = make_plan(f"synthetic-{models}x{questions}x{samples}", synth_models, set_files, samples, seed)
    dump_yaml(run_dir / PLAN_FILE, plan.model_dump(mode="json", exclude_defaults=True))
    lp = load_plan(run_dir / PLAN_FILE)  # the real loader: the synthetic sets must validate

    loaded = {q.id: q for ls in lp.sets for q in ls.qs.questions}
    difficulty = question_rng.normal(0, 1.0, len(all_questions))
    prompt_tokens = _prompt_tokens(all_questions, question_rng)
    qs_all = Questions(all_questions, prompt_tokens, difficulty, samples, seed, RubricCache(loaded), answer_texts or {})
    gen_lines: list[str] = []
    score_lines: list[str] = []
    phases: list[Phase] = []
    levels: list[LoadLevel] = []
    perf: list[PerfRecord] = []
    t = EPOCH_S + 5.0
    for mi, (m, rng) in enumerate(zip(synth_models, answer_rngs, strict=True)):
        t += m.server_start_s
        run = model_answers(m, mi, qs_all, t, rng, gen_lines, score_lines)
        phases.append(run.phase)
        t = run.phase.ended_at + 0.5
        if with_perf:
            mine = sweep_levels(m, t, float(prompt_tokens.mean()), rng)
            sweep_s = mine[-1].started_at + mine[-1].wall_s - t
            levels += mine
            perf.append(perf_record(m, run, sweep_s, rng))
            t += sweep_s
        t += 5.0

    atomic_write_text(run_dir / GENERATIONS, "\n".join(gen_lines) + "\n")
    atomic_write_text(run_dir / SCORES, "\n".join(score_lines) + "\n")
    write_records(run_dir / PHASES, list(phases))
    if with_perf:
        write_records(run_dir / LOADTEST, list(levels))
        write_records(run_dir / PERF, list(perf))
    write_manifest(run_dir, lp, synth_models, phases)
    return run_dir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--models", type=int, default=3)
    p.add_argument("--questions", type=int, default=30, help="questions over all sets")
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sets", type=int, default=2)
    p.add_argument("--categories", type=int, default=5, help="categories per set")
    p.add_argument("--no-perf", action="store_true", help="no load sweep or perf records")
    args = p.parse_args(argv)
    started = time.perf_counter()
    try:
        write_synthetic_run(args.run_dir, args.models, args.questions, args.samples, args.seed, args.sets,
                            args.categories, with_perf=not args.no_perf)  # fmt: skip
    except (FileExistsError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    answers = args.models * args.questions * args.samples
    print(f"wrote {answers:,} answers to {args.run_dir} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
