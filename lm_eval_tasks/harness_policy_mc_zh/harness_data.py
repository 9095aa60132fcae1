"""Loads the JSONL files beside this file for the lm-eval task YAMLs beside it (written by `harness export-lm-eval`).

lm-eval calls ``load`` with the task's ``dataset_kwargs`` (and its ``metadata``). ``datasets`` would
resolve a relative ``data_files`` path against the working directory; here it is resolved against
this folder, so the task loads wherever lm-eval runs from.
"""

from pathlib import Path

import datasets


def load(data_files: dict[str, str], **_: object) -> datasets.DatasetDict:
    here = Path(__file__).resolve().parent
    return datasets.load_dataset("json", data_files={split: str(here / name) for split, name in data_files.items()})
