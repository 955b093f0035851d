"""The run folder's writer: metrics.jsonl, dev evaluations, and the best/ and last/ checkpoints.

    rec = RunRecorder(out_dir, accelerator, RunData(task, tokenizer, encoded, data_args, run_args, selection))
    rec.log({"step": 10, "train/loss": 2.3})
    metrics = rec.evaluate(step, epoch, gen, disc=None)   # dev metrics; saves best/ when the selection metric improves
    rec.check_collapse(step, distinct_2, unique_ratio)    # warns when samples lose diversity
    rec.save_last(step, epoch, gen, disc=None)

Only the main process writes; every process takes part in evaluation (it gathers across them).
`selection` is (metric, "min" | "max"), or None to keep the latest evaluated state as best/.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from seqgan.checkpoint import save_checkpoint, write_json_atomic
from seqgan.scoring.evaluation import Evaluator, eval_loader, evaluate_split

if TYPE_CHECKING:
    from accelerate import Accelerator

    from seqgan.config import DataArguments


@dataclass
class RunData:
    """What a run evaluates and records: the task module (seqgan.tasks.<name>, see its Task interface), the
    tokenizer, the encoded splits, the options, and the rules for best/ and for collapse warnings."""
    task: ModuleType
    tokenizer: Any
    encoded: dict                              # split name -> encoded datasets.Dataset
    data_args: DataArguments
    run_args: dict                             # every option, as saved in args.json
    selection: tuple[str, str] | None          # (dev metric, "min" | "max"); None: the latest evaluation is best/
    collapse: tuple[float, float] = (0.0, 0.0)  # warn below (distinct-2, unique-sentence ratio)


class RunRecorder:
    def __init__(self, out_dir: str | Path, accelerator: Accelerator, data: RunData, resume: dict | None = None):
        self.out_dir, self.accelerator = Path(out_dir), accelerator
        self.task, self.tokenizer = data.task, data.tokenizer
        self.encoded, self.data_args = data.encoded, data.data_args
        self.run_args, self.selection = data.run_args, data.selection
        self.best, self.best_step, self.t0 = None, None, time.time()
        self.min_distinct_2, self.min_unique = data.collapse
        self.log_path = self.out_dir / "metrics.jsonl"
        self.dev_loader = eval_loader(self.encoded["dev"], self.task.collator(self.tokenizer), 64, accelerator)
        self.evaluator = Evaluator(self.task, self.tokenizer, self.encoded, accelerator, self.data_args)
        if resume is not None:  # continue the log where the saved state left it; forget what came after
            self.best, self.best_step = resume["best"], resume["best_step"]
            if accelerator.is_main_process:
                with open(self.log_path, "r+b") as f:
                    f.truncate(resume["log_bytes"])
        elif accelerator.is_main_process:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.log_path.unlink(missing_ok=True)
            write_json_atomic(self.out_dir / "args.json", self.run_args)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.is_file() else 0

    def check_collapse(self, step: int, distinct_2: float | None, unique_ratio: float | None) -> None:
        """Warn (and log) when fresh samples lose diversity: distinct-2 or the unique-sentence ratio too low."""
        low = [f"{name} {v:.3f} < {floor}" for name, v, floor in (("distinct-2", distinct_2, self.min_distinct_2),
                                                                    ("unique ratio", unique_ratio, self.min_unique))
               if v is not None and v < floor]
        if low:
            self.log({"step": step, "guard/collapse_warning": "; ".join(low)})
            self.write(f"step {step}: WARNING possible mode collapse: {'; '.join(low)} (thresholds "
                       "--collapse_min_distinct_2, --collapse_min_unique)")

    def log(self, record: dict) -> None:
        if self.accelerator.is_main_process:
            with open(self.log_path, "a") as f:
                f.write(json.dumps({**record, "time_s": round(time.time() - self.t0, 2)}) + "\n")
            if self.accelerator.trackers and "step" in record:  # --report_to: the same numbers, at the same step
                scalars = {k: v for k, v in record.items() if k != "step" and isinstance(v, (int, float))
                           and not isinstance(v, bool)}
                if scalars:
                    self.accelerator.log(scalars, step=int(record["step"]))

    def write(self, text: str) -> None:
        if self.accelerator.is_main_process:
            from tqdm.auto import tqdm

            tqdm.write(text)

    def evaluate(self, step: int, epoch: int, gen, disc=None, phase: str | None = None) -> dict:
        metrics = evaluate_split(self.evaluator, gen, "dev", loader=self.dev_loader)
        self.log({"step": step, "epoch": epoch, **({"phase": phase} if phase else {}), **metrics})
        if self.selection is None:
            improved = True
        else:
            name, mode = self.selection
            score = metrics[f"dev/{name}"]
            improved = self.best is None or (score > self.best if mode == "max" else score < self.best)
            if improved:
                self.best = score
        if improved:
            self.best_step = step
            if self.accelerator.is_main_process:
                save_checkpoint(self.out_dir / "best", gen, self.tokenizer, self.run_args,
                                {"step": step, "epoch": epoch, **({"phase": phase} if phase else {}), **metrics},
                                disc=disc)
        self.write(f"step {step}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()
                                                 # per-tag scores: JSON only
                                                 if isinstance(v, float) and "/tag/" not in k))
        self.check_collapse(step, metrics.get("dev/distinct_2"), metrics.get("dev/unique_ratio"))
        self.accelerator.wait_for_everyone()
        return metrics

    def new_phase(self) -> None:
        """Forget the best score so far: best/ is chosen among the coming phase's evaluations only
        (a GAN run's best/ is an adversarial state, its starting point included, not a pretraining one)."""
        self.best, self.best_step = None, None

    def save_last(self, step: int, epoch: int, gen, disc=None) -> None:
        if self.accelerator.is_main_process:
            save_checkpoint(self.out_dir / "last", gen, self.tokenizer, self.run_args, {"step": step, "epoch": epoch},
                            disc=disc)
        self.accelerator.wait_for_everyone()
