"""Tasks: one module per task (data, tokenizer, generator, metrics, defaults), picked by name.

    from tasks import get_task
    task = get_task("pos")   # the module tasks/pos.py

Every task module provides: DEFAULTS, SELECTION, load_splits, build_tokenizer, build_generator,
load_generator, encode, collator and evaluate, with the same signatures.
"""

from importlib import import_module

TASK_NAMES = ("pos", "text", "oracle")


def get_task(name: str):
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)} (e.g. --task pos).")
    return import_module(f"tasks.{name}")
