"""The installed vLLM's tool-call parser registry, as the plan check reads it (issue 31).

Marked ``vllm``: importing vLLM's registry takes about 20 s on the CPU build, too slow for the unit tests
(tests/server/test_tool_serving.py checks the plan against a stated registry instead).
"""

from __future__ import annotations

import pytest

from harness.records import Candidate
from harness.server.tool_parsers import installed_tool_parsers, tool_parser_problems

pytestmark = pytest.mark.vllm


def test_the_installed_vllm_knows_hermes_and_refuses_a_misspelt_name() -> None:
    known = installed_tool_parsers()
    assert known is not None, "vLLM is installed in this environment"
    # names from vllm/tool_parsers/__init__.py of vLLM 0.32 (_TOOL_PARSERS_TO_REGISTER)
    assert {"hermes", "llama3_json", "mistral", "deepseek_v3"} <= set(known)
    cands = [
        (("candidates", 0, "tool_parser"), Candidate(name="a", model="m", tool_parser="hermes")),
        (("candidates", 1, "tool_parser"), Candidate(name="b", model="m", tool_parser="Hermes")),
    ]
    assert [where for where, _ in tool_parser_problems(cands)] == [("candidates", 1, "tool_parser")]
