"""The layout keeps its promises (docs/architecture.md): imports go one way, and one module owns the run directory.

Stages, in order: foundation -> inputs -> server -> run -> scoring -> rollup -> report -> review -> compare -> cli.
A module may import its own stage and earlier ones, never a later one; imports inside
functions count. The report reads a run without the run or scoring stage, even through
another module; no module but :mod:`harness.rundir` spells a file name of a run directory; no
module of the harness imports the benchmark tools (``harness_bench``); no module reads the manifest by
string key (it is a :class:`~harness.manifest_records.RunManifest`, read by attribute). Model servers are
reached only through the server layer (``harness/server``): the scoring stage imports nothing of the run
stage, only the layer imports an HTTP stack, and no other module builds a client or spells ``/health`` or
``/metrics``. The document converters (mammoth, pdfplumber, openpyxl, ...) are imported only inside
``harness/inputs/documents``, and only inside functions there.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from harness import rundir

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO / "harness"
STAGES = ("foundation", "inputs", "server", "run", "scoring", "rollup", "report", "review", "compare", "cli")
FOUNDATION = {
    "records",
    "manifest_records",
    "schema",
    "store",
    "rundir",
    "validation",
    "aio",
    "hardware",
    "dtype",
    "thinking",
    "modelshape",
    "timing",
    "perf_records",
    "rubric",
    "parts",
}
FILE_TEMPLATES = ("judgments.{}.jsonl", "samples_{}.jsonl")
"""Run-directory file names built from a value (an f-string renders each value as ``{}`` here)."""


def module_name(path: Path, root: Path = REPO) -> str:
    """``harness/run/session.py`` -> ``harness.run.session`` (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str | None:
    """The stage of a ``harness`` module; None for a module outside the harness."""
    parts = module.split(".")
    if parts[0] != "harness":
        return None
    top = parts[1] if len(parts) > 1 else "__init__"
    if top in FOUNDATION or top == "__init__":
        return "foundation"
    if top in STAGES:
        return top
    raise AssertionError(f"{module} belongs to no stage; add it to FOUNDATION or a stage package")


def imports(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth; relative imports made absolute."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            found += [(node.lineno, _from_harness(target, alias.name)) for alias in node.names]
    return found


def _from_harness(target: str, name: str) -> str:
    """``from harness import rundir`` and ``from harness.run import lmeval_stage`` import the modules
    ``harness.rundir`` and ``harness.run.lmeval_stage``; ``from harness import __version__`` imports ``harness``."""
    head, *sub = target.split(".")
    folder = HARNESS.joinpath(*sub)
    is_module = head == "harness" and ((folder / name).is_dir() or (folder / f"{name}.py").is_file())
    return f"{target}.{name}" if is_module else target


def sources() -> list[Path]:
    return sorted(HARNESS.rglob("*.py"))


def later_imports(stage: str) -> list[str]:
    """``file:line: module imports later-stage module`` for each file of ``stage``."""
    bad = []
    for path in sources():
        mine = stage_of(module_name(path))
        if mine != stage:
            continue
        for line, target in imports(path):
            theirs = stage_of(target)
            if theirs is not None and STAGES.index(theirs) > STAGES.index(mine):
                bad.append(f"{path.relative_to(REPO)}:{line}: {mine} imports {target} ({theirs})")
    return bad


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_itself_and_earlier_stages(stage: str) -> None:
    assert later_imports(stage) == []


def test_every_module_belongs_to_a_stage() -> None:
    stages = {stage_of(module_name(p)) for p in sources()}
    assert stages == set(STAGES)


def test_the_report_imports_nothing_of_the_run_or_scoring_stage() -> None:
    direct = [
        f"{p.relative_to(REPO)}:{line}: {target}"
        for p in sources()
        if stage_of(module_name(p)) == "report"
        for line, target in imports(p)
        if stage_of(target) in ("run", "scoring")
    ]
    assert direct == []
    code = (
        "import sys, harness.report.render, harness.report.load\n"
        "print('\\n'.join(m for m in sys.modules if m.split('.')[:2] in (['harness', 'run'], ['harness', 'scoring'])))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == []


def test_no_harness_module_imports_the_benchmark_tools() -> None:
    """``harness_bench`` (the benchmarks' fake server, their figures, the synthetic run) is no part of
    the product: the wheel does not ship it, so no module of ``harness`` may import it."""
    bad = [
        f"{p.relative_to(REPO)}:{line}: {target}"
        for p in sources()
        for line, target in imports(p)
        if target.split(".")[0] == "harness_bench"
    ]
    assert bad == []


# ---------------------------------------------------------------- the document converters

CONVERTERS = ("mammoth", "markdownify", "bs4", "pdfplumber", "pdfminer", "openpyxl", "docx", "reportlab")


def converters_outside_their_package(root: Path = REPO) -> list[str]:
    """``file:line: module`` for each import of a document converter outside ``harness/inputs/documents``,
    or inside it at module level (they load only when a Word, PDF, Excel or HTML file is read)."""
    bad = []
    for p in sorted((root / "harness").rglob("*.py")):
        inside = in_package(module_name(p, root), "harness.inputs.documents")
        top = {
            n.lineno
            for n in ast.parse(p.read_text(encoding="utf-8")).body
            if isinstance(n, ast.Import | ast.ImportFrom)
        }
        bad += [
            f"{p.relative_to(root)}:{line}: {target}"
            for line, target in imports(p, root)
            if target.split(".")[0] in CONVERTERS and (not inside or line in top)
        ]
    return bad


def test_document_converters_load_only_in_the_documents_package_and_only_when_used() -> None:
    """Conversion lives in ``harness/inputs/documents``, its libraries imported inside the functions that use
    them: validating a set of Markdown documents loads none of them."""
    assert converters_outside_their_package() == []
    code = "import sys, harness.inputs.questions, harness.inputs.variants\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert [m for m in out.stdout.split() if m.split(".")[0] in CONVERTERS] == []


def test_the_converter_check_sees_imports_elsewhere_and_at_module_level(tmp_path: Path) -> None:
    docs = tmp_path / "harness" / "inputs" / "documents"
    docs.mkdir(parents=True)
    (docs / "pdf.py").write_text("import pdfplumber\n\ndef f():\n    import openpyxl\n", encoding="utf-8")
    (tmp_path / "harness" / "inputs" / "retrieval.py").write_text("def g():\n    from bs4 import X\n", encoding="utf-8")
    assert converters_outside_their_package(tmp_path) == [
        "harness/inputs/documents/pdf.py:1: pdfplumber",
        "harness/inputs/retrieval.py:2: bs4",
    ]


# ---------------------------------------------------------------- the server layer

HTTP_STACKS = ("httpx", "aiohttp")
CLIENT_CLASSES = ("ModelClient", "FastClient", "ClientConfig")
SERVER_ROUTES = ("/health", "/metrics")


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def scoring_imports_of_the_run_stage(root: Path = REPO) -> list[str]:
    """``file:line: module`` for each import of ``harness.run`` in ``harness/scoring``."""
    return [
        f"{p.relative_to(root)}:{line}: {target}"
        for p in sorted((root / "harness" / "scoring").rglob("*.py"))
        for line, target in imports(p, root)
        if in_package(target, "harness.run")
    ]


def http_outside_the_server_layer(root: Path = REPO) -> list[str]:
    """``file:line: module`` for each import of an HTTP stack by a module outside ``harness/server``."""
    return [
        f"{p.relative_to(root)}:{line}: {target}"
        for p in sorted((root / "harness").rglob("*.py"))
        if not in_package(module_name(p, root), "harness.server")
        for line, target in imports(p, root)
        if target.split(".")[0] in HTTP_STACKS
    ]


def servers_reached_around_the_layer(root: Path = REPO) -> list[str]:
    """``file:line: what`` for each module outside ``harness/server`` that builds a client itself
    (calls ``ModelClient``, ``FastClient`` or ``ClientConfig``) or spells a server route as a literal."""
    bad = []
    for p in sorted((root / "harness").rglob("*.py")):
        if in_package(module_name(p, root), "harness.server"):
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"), str(p))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name in CLIENT_CLASSES:
                    bad.append(f"{p.relative_to(root)}:{node.lineno}: {name}(...)")
        bad += [
            f"{p.relative_to(root)}:{line}: {text!r}"
            for line, text in _strings(tree)
            if any(route in text for route in SERVER_ROUTES)
        ]
    return bad


def test_the_judge_reaches_no_module_of_the_run_stage() -> None:
    """The judge serves and asks its model through ``harness.server``, as the run does, not through the run."""
    assert scoring_imports_of_the_run_stage() == []


def test_only_the_server_layer_speaks_http() -> None:
    """HTTP to model servers lives in ``harness/server``: no other module imports httpx or aiohttp."""
    assert http_outside_the_server_layer() == []


def test_load_tests_and_stages_reach_a_server_only_through_the_layer() -> None:
    """Every client comes from a ``ModelServer`` (``server.client(...)``, ``client_config`` + ``fast_client``),
    and no module outside the layer builds a ``/health`` or ``/metrics`` URL itself."""
    assert servers_reached_around_the_layer() == []


def test_the_server_layer_checks_see_what_they_refuse(tmp_path: Path) -> None:
    """Each rule above names the file and line of the old layout's breach (harness/run holding the client)."""
    (tmp_path / "harness" / "scoring" / "judge").mkdir(parents=True)
    (tmp_path / "harness" / "run" / "perf").mkdir(parents=True)
    (tmp_path / "harness" / "server").mkdir(parents=True)
    (tmp_path / "harness" / "scoring" / "judge" / "stage.py").write_text(
        "from harness.run.client import ModelClient\n", encoding="utf-8"
    )
    (tmp_path / "harness" / "run" / "perf" / "loadgen.py").write_text(
        "import aiohttp\n"
        "from harness.run.perf.fastclient import FastClient\n"
        "def client(url):\n"
        '    """Asks url + "/health" (a docstring: no breach)."""\n'
        "    return FastClient(url, 'm'), url + '/metrics'\n",
        encoding="utf-8",
    )
    (tmp_path / "harness" / "server" / "client.py").write_text(
        "import httpx\nc = ModelClient(cfg)\nu = '/health'\n", encoding="utf-8"
    )
    assert scoring_imports_of_the_run_stage(tmp_path) == ["harness/scoring/judge/stage.py:1: harness.run.client"]
    assert http_outside_the_server_layer(tmp_path) == ["harness/run/perf/loadgen.py:1: aiohttp"]
    assert servers_reached_around_the_layer(tmp_path) == [
        "harness/run/perf/loadgen.py:5: FastClient(...)",
        "harness/run/perf/loadgen.py:5: '/metrics'",
    ]


def _docstring_ids(tree: ast.AST) -> set[int]:
    """ids of the string constants that stand alone as statements: docstrings and attribute docs."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is not documentation; an f-string with ``{}`` for each value."""
    docs = _docstring_ids(tree)  # and the parts of an f-string, judged whole below
    docs |= {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, str(text)))
    return out


def spelled_file_names(path: Path, root: Path = REPO) -> list[str]:
    """``file:line: 'literal'`` for each literal in ``path`` that holds a run-directory file name."""
    names = [*rundir.FILE_NAMES, *FILE_TEMPLATES]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.relative_to(root)}:{line}: {text!r}"
        for line, text in _strings(tree)
        if any(name in text for name in names)
    ]


def test_only_rundir_spells_a_run_directory_file_name() -> None:
    tools = sorted((REPO / "scripts").glob("*.py")) + sorted((REPO / "harness_bench").glob("*.py"))
    files = [p for p in sources() if p.name != "rundir.py"] + tools
    assert [hit for p in files for hit in spelled_file_names(p)] == []


def test_the_file_name_check_sees_literals_and_f_strings_but_not_docs(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Writes scores.jsonl."""\n'
        'A = "scores.jsonl"\n'
        "def f(run, t):\n"
        '    """Reads manifest.json."""\n'
        '    return run / f"judgments.{t}.jsonl", run / "logs" / f"{t}.vllm.log"\n',
        encoding="utf-8",
    )
    assert sorted(spelled_file_names(sample, tmp_path)) == [
        "sample.py:2: 'scores.jsonl'",
        "sample.py:5: 'judgments.{}.jsonl'",
        "sample.py:5: '{}.vllm.log'",
    ]


def test_the_import_check_sees_imports_in_functions_and_relative_ones(tmp_path: Path) -> None:
    package = tmp_path / "harness" / "report"
    package.mkdir(parents=True)
    sample = package / "view.py"
    sample.write_text(
        "import json\n"
        "from harness import rundir\n"
        "from . import charts\n"
        "def f():\n"
        "    from ..run.client import Request\n"
        "    import harness.scoring.stage\n",
        encoding="utf-8",
    )
    assert imports(sample, tmp_path) == [
        (1, "json"), (2, "harness.rundir"), (3, "harness.report.charts"), (5, "harness.run.client"),
        (6, "harness.scoring.stage"),
    ]  # fmt: skip
    assert [stage_of(m) for _, m in imports(sample, tmp_path)] == [None, "foundation", "report", "run", "scoring"]


# ---------------------------------------------------------------- the manifest is read by attribute

MANIFEST_FUNCTIONS = {"load_manifest", "require_manifest", "open_manifest", "new_manifest", "prepare_panel"}
"""The functions that return the run's manifest (:class:`~harness.manifest_records.RunManifest`)."""
MANIFEST_OWNERS = {"rundir.py", "schema.py", "manifest_records.py"}
"""The modules that read and upgrade ``manifest.json`` itself, as JSON."""
KEYED = {"get", "setdefault", "pop", "update"}


def _called(node: ast.AST) -> str | None:
    """``f`` or ``m.f`` of a call ``f(...)`` / ``m.f(...)``; None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def manifest_reads_by_key(path: Path, root: Path = REPO) -> list[str]:
    """``file:line: code`` for each place ``path`` reads or writes a manifest by string key: ``m["plan"]``,
    ``m.get("plan")``, ``m.setdefault(...)``, ``m.update(...)`` where ``m`` is named ``manifest`` (a variable
    or an attribute such as ``rec.manifest``), was bound from a function returning the manifest, or is such
    a call itself (``require_manifest(d)["plan"]``, ``(load_manifest(d) or {}).get(...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bound = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_manifest(node.value, set())
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_manifest(node.value, bound):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                hits.append(node)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEYED
              and _is_manifest(node.func.value, bound)):  # fmt: skip
            hits.append(node)
    hits.sort(key=lambda n: (n.lineno, n.col_offset))
    return [f"{path.relative_to(root)}:{n.lineno}: {ast.unparse(n)}" for n in hits]


def _is_manifest(node: ast.AST, bound: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "manifest" or node.id in bound
    if isinstance(node, ast.Attribute):
        return node.attr == "manifest"
    if isinstance(node, ast.BoolOp):
        return any(_is_manifest(v, bound) for v in node.values)
    return _called(node) in MANIFEST_FUNCTIONS


def test_no_module_reads_the_manifest_by_string_key() -> None:
    tools = sorted((REPO / "scripts").glob("*.py")) + sorted((REPO / "harness_bench").glob("*.py"))
    files = [p for p in sources() if p.name not in MANIFEST_OWNERS] + tools
    assert [hit for p in files for hit in manifest_reads_by_key(p)] == []


def test_the_manifest_key_check_sees_names_attributes_and_calls(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(run_dir, rec, plan):\n"
        '    manifest = {"plan": plan}\n'  # a dict literal is not a read
        "    old = load_manifest(run_dir) or {}\n"
        '    a = old.get("plan_path"), rec.manifest["candidates"], manifest.get("host")\n'
        '    b = require_manifest(run_dir)["plan"], plan["name"], rec.manifest.plan, old[0]\n'
        "    manifest.update(plan=plan)\n",
        encoding="utf-8",
    )
    assert manifest_reads_by_key(sample, tmp_path) == [
        "sample.py:4: old.get('plan_path')",
        "sample.py:4: rec.manifest['candidates']",
        "sample.py:4: manifest.get('host')",
        "sample.py:5: require_manifest(run_dir)['plan']",
        "sample.py:6: manifest.update(plan=plan)",
    ]


# ---------------------------------------------------------------- no import cycle


def import_graph() -> dict[str, set[str]]:
    """Each harness module -> the harness modules it imports (lazy and ``TYPE_CHECKING`` imports too)."""
    files = {module_name(p): p for p in sources()}
    return {name: {t for _, t in imports(path) if t in files} - {name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycles_finds_a_loop_through_three_modules_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_harness_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "harness.run.fleet" in graph["harness.cli"]  # the graph is read at all: cli imports the fleet lazily
    assert "harness.run.lmeval_stage" in graph["harness.run.session"]  # `from harness.run import lmeval_stage`
    assert cycles(graph) == []


# ---------------------------------------------------------------- perf records are read by attribute


PERF_PARTS = ("memory", "metrics", "server", "points")
"""The typed parts of a ``PerfRecord`` and a ``CapacityRecord`` (:mod:`harness.perf_records`), as attributes."""
PERF_PART_VARIABLES = ("memory", "server")
"""Variables named after a part (``measured_peak_gib(memory)``); ``metrics`` and ``points`` also name other
dicts (lm-eval's metrics, a rubric's points), so only their attributes count."""
DICT_READS = ("get", "items", "keys", "values")


def _names(node: ast.AST) -> set[str]:
    """Names bound by a ``for`` target or a lambda's parameters."""
    if isinstance(node, ast.Lambda):
        return {a.arg for a in node.args.args}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _mentions_points(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "points" for n in ast.walk(node))


def perf_key_reads(path: Path, root: Path = REPO) -> list[str]:
    """``file:line: code`` for each read of a perf record's part by string key: a subscript or a dict method
    (``get``, ``items``, ``keys``, ``values``) on ``.memory``, ``.metrics``, ``.server`` or ``.points`` (or a
    variable ``memory`` or ``server``), or on a capacity point: the variable of a loop or comprehension over
    ``.points``, or the parameter of a lambda passed with them (``sorted(r.points, key=lambda p: p.get("order"))``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    points: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)) and _mentions_points(node.iter):
            points |= _names(node.target)
        elif isinstance(node, ast.Call) and any(_mentions_points(a) for a in node.args):
            points |= {n for k in node.keywords if isinstance(k.value, ast.Lambda) for n in _names(k.value)}

    def is_part(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr in PERF_PARTS
        return isinstance(node, ast.Name) and (node.id in PERF_PART_VARIABLES or node.id in points)

    bad = []
    for node in ast.walk(tree):
        read = node.value if isinstance(node, ast.Subscript) else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DICT_READS:
            read = node.func.value
        if read is not None and is_part(read):
            bad.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return sorted(bad)


def product_and_tools(root: Path = REPO) -> list[Path]:
    """The harness, the benchmark tools and the scripts (their tests excluded)."""
    tools = sorted((root / "scripts").glob("*.py")) + sorted((root / "harness_bench").glob("*.py"))
    return sorted((root / "harness").rglob("*.py")) + tools


def test_no_module_reads_a_perf_record_by_string_key() -> None:
    """The memory, /metrics, server-log and capacity-point parts are typed records (issue 30): a module
    reads their attributes, so a renamed field fails mypy instead of reading None."""
    assert [hit for p in product_and_tools() for hit in perf_key_reads(p)] == []


def test_the_perf_key_check_sees_parts_and_points_but_not_attributes(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(rec, cap, memory, row):\n"
        '    a = rec.memory["source"], memory.get("peak_used_gib")\n'
        '    b = rec.metrics.get("peak_requests_running")\n'
        "    c = {k: v for k, v in rec.server.items()}\n"
        '    d = [p.get("value") for p in cap.points], sorted(cap.points, key=lambda q: q["order"])\n'
        "    for point in cap.points:\n"
        '        e = point["met"]\n'
        '    return rec.memory.source, [p.value for p in cap.points], row["value"], row.get("met")\n',
        encoding="utf-8",
    )
    assert perf_key_reads(sample, tmp_path) == [
        "sample.py:2: memory.get('peak_used_gib')",
        "sample.py:2: rec.memory['source']",
        "sample.py:3: rec.metrics.get('peak_requests_running')",
        "sample.py:4: rec.server.items()",
        "sample.py:5: p.get('value')",
        "sample.py:5: q['order']",
        "sample.py:7: point['met']",
    ]
