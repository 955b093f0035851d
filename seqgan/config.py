"""Typed run configuration, parsed by `HfArgumentParser`.

Three dataclasses (data, model, training) hold every hyperparameter exactly once. A task
module (`tasks/<name>.py`) may override their *defaults* through its `DEFAULTS` dict; the
command line or a YAML/JSON file overrides those in turn:

    python scripts/train.py --task pos --num_epochs 5
    python scripts/train.py my_run.yaml          # same keys as the flags
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml
from transformers import HfArgumentParser


@dataclass
class DataArguments:
    task: str = field(default="pos", metadata={"help": "Task to run: pos, text or oracle."})
    data_dir: str | None = field(
        default=None,
        metadata={"help": "Folder holding the data (layout of ../shared/data). Falls back to $SEQGAN_DATA_DIR, "
                  "then to a download cache (~/.cache/seqgan)."},
    )
    max_length: int = field(default=64, metadata={"help": "Longest sequence (words, tags or tokens) the model accepts."})
    dev_size: int = field(default=500, metadata={"help": "Size of the dev split where a task carves or samples one."})
    test_size: int = field(default=10000, metadata={"help": "Size of the test split where a task samples one (oracle)."})
    num_eval_samples: int = field(
        default=1000, metadata={"help": "Generated samples per evaluation for sample-based metrics (NLL_oracle, text samples)."}
    )
    num_test_samples: int = field(
        default=10000, metadata={"help": "Generated samples for the final test evaluation (10,000 as in SeqGAN/Texygen)."}
    )
    data_seed: int = field(default=1234, metadata={"help": "Seed for data splits and oracle samples (independent of --seed)."})


@dataclass
class ModelArguments:
    generator_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Load the generator (and its tokenizer) from a local folder or Hub id instead of "
                  "configuring one from scratch."},
    )
    hidden_size: int = field(default=256, metadata={"help": "Transformer width."})
    num_layers: int = field(default=2, metadata={"help": "Transformer layers (the encoder's, for pos)."})
    num_heads: int = field(default=4, metadata={"help": "Attention heads."})
    ffn_size: int = field(default=1024, metadata={"help": "Feed-forward inner width."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout on embeddings, attention and feed-forward."})
    decoder_layers: int = field(default=1, metadata={"help": "pos only: layers of the causal tag decoder."})
    word_min_freq: int = field(
        default=2, metadata={"help": "pos/text: words seen fewer times in train map to [UNK] (char features still see them)."}
    )
    char_dim: int = field(default=64, metadata={"help": "pos only: byte-embedding width of the character CNN."})
    char_filters: int = field(default=128, metadata={"help": "pos only: filters per kernel width in the character CNN."})
    word_dropout: float = field(
        default=0.1, metadata={"help": "pos only: probability of replacing a word by [UNK] in training (helps unseen words)."}
    )
    prev_tag_dropout: float = field(
        default=0.1, metadata={"help": "pos only: probability of hiding the previous gold tag from the decoder in training."}
    )


@dataclass
class TrainArguments:
    output_dir: str = field(default="runs/pos-mle", metadata={"help": "Run folder: checkpoints, metrics.jsonl, eval JSON."})
    method: str = field(default="mle", metadata={"help": "Training method. Only 'mle' exists so far."})
    seed: int = field(default=42, metadata={"help": "Seed for initialisation, shuffling, dropout and sampling."})
    num_epochs: float = field(default=10.0, metadata={"help": "Passes over the training data (fractions allowed)."})
    batch_size: int = field(default=32, metadata={"help": "Sequences per batch per process."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Batches per optimiser step."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak AdamW learning rate."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (not on biases and norms)."})
    warmup_ratio: float = field(default=0.05, metadata={"help": "Fraction of steps with linear warm-up."})
    lr_scheduler: str = field(default="linear", metadata={"help": "transformers scheduler name: linear, cosine, constant, ..."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0 disables)."})
    eval_every: int = field(default=0, metadata={"help": "Evaluate on dev every N optimiser steps (0: once per epoch)."})
    log_every: int = field(default=50, metadata={"help": "Log training loss every N optimiser steps."})
    max_steps: int = field(default=0, metadata={"help": "Stop after N optimiser steps (0: run all epochs)."})

    def __post_init__(self):
        if self.method != "mle":
            raise ValueError(f"--method {self.method!r} is not available; use --method mle.")
        if self.batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ValueError("--batch_size and --gradient_accumulation_steps must be at least 1.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}.")
        if self.num_epochs <= 0 and self.max_steps <= 0:
            raise ValueError("Set --num_epochs > 0 or --max_steps > 0, otherwise nothing trains.")


CONFIG_CLASSES = (DataArguments, ModelArguments, TrainArguments)


def _task_defaults(task: str) -> dict:
    from tasks import get_task  # late import: tasks depend on seqgan

    return dict(get_task(task).DEFAULTS)


def parse_args(argv: list[str] | None = None) -> tuple[DataArguments, ModelArguments, TrainArguments]:
    """Parse flags (or one YAML/JSON file) with the chosen task's defaults applied first."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = HfArgumentParser(CONFIG_CLASSES)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml", ".json")):
        path = Path(argv[0])
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        values = (json.loads if path.suffix == ".json" else yaml.safe_load)(path.read_text()) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping of option names to values, got {type(values).__name__}")
        known = {f.name for cls in CONFIG_CLASSES for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown option(s) {unknown}; run scripts/train.py --help for the list.")
        merged = {**_task_defaults(values.get("task", DataArguments.task)), **values}
        return parser.parse_dict(merged)
    probe, _ = HfArgumentParser(DataArguments).parse_known_args(argv)
    parser.set_defaults(**_task_defaults(probe.task))
    # return_remaining_strings=False makes unknown flags a clear argparse error.
    return parser.parse_args_into_dataclasses(args=argv)


def quiet_libraries() -> None:
    """Scripts print their own progress; silence library progress bars and info logs."""
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()


def args_to_dict(*configs) -> dict:
    out = {}
    for cfg in configs:
        out.update(asdict(cfg))
    return out
