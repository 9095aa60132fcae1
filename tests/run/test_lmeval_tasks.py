"""lm-eval tasks checked before anything runs, with no server: hub tasks and unknown names are refused
up front, the shipped task reads only local files. The runs on a real server are in tests/e2e/test_lmeval.py.
"""

from __future__ import annotations

import os

import pytest

from harness.run.lmeval import LmEvalError, check_offline
from tests.support.files import REPO

TASKS = REPO / "lm_eval_tasks"
TASK = "harness_policy_mc_zh"


def test_hub_tasks_are_refused_with_the_reason() -> None:
    before = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "OPENAI_API_KEY")}
    for task, dataset in (("mmlu_anatomy", "cais/mmlu"), ("gsm8k", "openai/gsm8k")):
        with pytest.raises(LmEvalError) as err:
            check_offline([TASK, task], TASKS)
        msg = str(err.value)
        assert f"'{task}'" in msg and dataset in msg and "Hugging Face hub" in msg and "cannot reach" in msg
        assert "harness export-lm-eval" in msg and TASK not in msg
    with pytest.raises(LmEvalError, match=r"'mmlu' \(cais/mmlu via 'mmlu_"):
        check_offline(["mmlu"], TASKS)  # a group: its subtasks' data is checked
    assert {k: os.environ.get(k) for k in before} == before


def test_unknown_task_is_named() -> None:
    with pytest.raises(LmEvalError, match=r"unknown lm-eval task 'no_such_task_xyz' \(not built into lm-eval"):
        check_offline(["no_such_task_xyz"], TASKS)
    check_offline([TASK], TASKS)  # the shipped task reads only local files
