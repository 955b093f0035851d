"""Tasks: one module per task, picked by name; installed as `seqgan.tasks` (the folder is tasks/).

    from seqgan.tasks import get_task, parse_args
    task = get_task("pos")                       # the module tasks/pos.py
    data, model, train, gan, crf = parse_args(["--task", "pos", "--num_train_epochs", "2"])   # with pos's defaults

Everything a task knows lives in its module, behind the interface `Task` below: the library
(`seqgan/`) never imports a task; scripts pick one by name and hand it to the library.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Protocol

from seqgan.config import parse_args as _parse_args

TASK_NAMES = ("pos", "segment", "text", "oracle")


class Task(Protocol):
    """What a task module provides (tasks/pos.py, text.py and oracle.py are the three implementations)."""

    # Options by method: DEFAULTS["all"] overrides the dataclass defaults of seqgan/config.py for every method, and
    # DEFAULTS[method] goes on top for that --method. SELECTION[method] (else SELECTION["all"]) is the dev metric and
    # direction that picks best/ ((name, "min" | "max"), or None for the last state). tests/test_config.py checks that
    # every key names a method and every option an option field.
    DEFAULTS: dict[str, dict[str, Any]]
    SELECTION: dict[str, tuple[str, str] | None]
    # Model card: pipeline_tag, datasets, license, task_type, task_name, dataset_type, dataset_name, metrics
    # {key: name}, attribution, usage (Python lines after `model = seqgan.load(repo_id)`).
    CARD: dict[str, Any]
    # scripts/compare.py: (header, metric key, format) per column, and what "D alone" is called here.
    COMPARE_COLUMNS: list[tuple[str, str, str]]
    D_ALONE: str
    # Temperature-sweep plots: panels of (x metric, y metric, x label, y label); empty: no sweeps.
    SWEEP_AXES: list[tuple[str, str, str, str]]
    # scripts/compare.py's gaps to MLE's temperature curve: (column, x metric, y metric, "min" | "max": better y);
    # optional (pos has none: it samples no unconditional outputs).
    FRONTIER: list[tuple[str, str, str, str]]
    # Optional (pos): compare.py's paired bootstrap against MLE, (header, words-per-sentence key, errors-per-sentence
    # key).
    PAIRED_TEST: tuple[str, str, str]
    # Optional: other papers' figures on this benchmark, shown by compare.py as "published: <label>" rows; text also
    # names the measurement protocol they were taken under (PUBLISHED_PROTOCOL, seqgan.scoring.protocols.PROTOCOLS).
    PUBLISHED: list[tuple[str, dict[str, float]]]

    # DatasetDict train/dev/test: the user's --train_file/--dataset_name (seqgan.sources.own_splits), else the
    # benchmark.
    def load_splits(self, data_args) -> Any: ...
    # The vocabulary from `splits` (a DatasetDict): the training split, or every split where the protocol says so
    # (text --protocol texygen); data_args may be None for a task whose vocabulary needs no options (oracle).
    def build_tokenizer(self, splits, model_args, data_args) -> Any: ...
    # `train` is the training split (pos reads its tag set from it); None builds a bare model.
    def build_generator(self, tokenizer, model_args, data_args, train=None) -> Any: ...
    def build_crf(self, tokenizer, model_args, data_args, train=None) -> Any: ...  # D alone (--method crf)
    # Optional, per method: build_hmm(tokenizer, model_args, data_args, train, crf_args) (pos, --method hmm) and
    # build_latent(tokenizer, model_args, data_args, kind) (text, oracle: --method random-code | ae | vae).
    def load_generator(self, path: str, tokenizer) -> Any: ...
    # A third-party pretrained model as G, with its own tokenizer: (generator, tokenizer); a clear error where none
    # fits.
    def pretrained_generator(self, name: str, model_args, data_args) -> tuple[Any, Any]: ...
    def encode(self, dataset, tokenizer, gen, long: str = "error") -> Any: ...
    def collator(self, tokenizer) -> Callable: ...
    # Metrics of `gen` on one split (seqgan.scoring.evaluation: SplitInputs, Decoding), unprefixed.
    def evaluate(self, gen, tokenizer, split, decoding) -> dict: ...
    # scripts/check_data.py: read one file as training reads it (errors collected in `problems`), and
    # summarise its rows: (summary lines, [(row, length in the units --max_length counts)]).
    def read_file(self, path, problems, max_length: int, tag_column: str = "upos") -> list[dict]: ...
    def summarise(self, rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]: ...
    # scripts/generate.py: unconditional tasks sample text (sample_texts); pos tags lines (tag_lines, to_conllu).
    # def sample_texts(self, gen, tokenizer, n, seed, batch_size, temperature, greedy) -> list[str]
    # def tag_lines(self, gen, tokenizer, lines, batch_size, pretokenized, long, progress) -> list[Tagged]


def get_task(name: str) -> Task:
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)} (e.g. --task pos).")
    return import_module(f"seqgan.tasks.{name}")


def defaults(task: str, method: str) -> dict:
    """The task's defaults for every method, then the method's own on top."""
    mod = get_task(task)
    return {**mod.DEFAULTS["all"], **mod.DEFAULTS.get(method, {})}


def selection(task, method: str) -> tuple[str, str] | None:
    """The dev metric and direction that pick best/ for `method` of `task` (a task module): None keeps the last
    state."""
    return task.SELECTION[method] if method in task.SELECTION else task.SELECTION["all"]


def parse_args(argv: list[str] | None = None, doc: str | None = None):
    """seqgan.config.parse_args with the tasks' defaults: what scripts/train.py parses (`doc`: its docstring, for
    --help)."""
    return _parse_args(argv, defaults=defaults, doc=doc)


def task_of(run_args: dict, where) -> Task:
    """The task a saved run was trained on (its args.json), with a clear error when it records none."""
    if "task" not in run_args:
        raise ValueError(f"{where} has no args.json naming its task; use a checkpoint written by scripts/train.py.")
    return get_task(run_args["task"])
