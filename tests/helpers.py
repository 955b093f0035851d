"""Helpers the test files share: tiny models and batches of every task, tiny run flags, fixtures' files, references.

    from helpers import CASES, TINY            # task, tokenizer, tiny G and a batch for "text", "oracle", "pos", ...
    from helpers import POS_TINY, TEXT_TINY    # flags of a seconds-long scripts/train.py run
"""

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import torch
from accelerate import Accelerator
from datasets import Dataset, DatasetDict
from safetensors.torch import load_file

from seqgan.config import DataArguments, GanArguments, ModelArguments
from seqgan.models.bigram import BigramEnergyConfig, BigramEnergyModel
from seqgan.tasks import get_task
from seqgan.training.bridges import BridgeContext
from seqgan.training.gan import GanModels, build_discriminator
from seqgan.training.losses import LOSSES

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- tiny models of every task

TINY = ModelArguments(hidden_size=32, num_layers=1, num_heads=2, ffn_size=64, dropout=0.0, char_dim=8,
                      char_filters=8, word_min_freq=1)

TEXT = ["a man rides a bike .", "two dogs play in the park", "a red bus on the street", "a cat"]
POS = [
    {"sent_id": "a", "words": ["The", "dog", "barks", "."], "tags": ["DET", "NOUN", "VERB", "PUNCT"]},
    {"sent_id": "b", "words": ["Cats", "sleep"], "tags": ["NOUN", "VERB"]},
    {"sent_id": "c", "words": ["I", "saw", "Zyxxy", "in", "2024", "!"],
     "tags": ["PRON", "VERB", "PROPN", "ADP", "NUM", "PUNCT"]},
]


def build(task_name, rows, max_length, model_args=TINY):
    torch.manual_seed(0)
    task = get_task(task_name)
    ds = Dataset.from_list(rows)
    data_args = DataArguments(task=task_name, max_length=max_length)
    tok = task.build_tokenizer(DatasetDict({"train": ds}), model_args, data_args)
    gen = task.build_generator(tok, model_args, data_args)
    batch = task.collator(tok)(list(task.encode(ds, tok, gen)))
    return task, tok, gen.eval(), batch


CASES = {
    "text": lambda: build("text", [{"text": t, "line": i + 1} for i, t in enumerate(TEXT)], 12),
    "oracle": lambda: build("oracle", [{"text": " ".join(str(i * 7 % 5000) for i in range(k, k + 20)), "line": k}
                                       for k in range(3)], 20),
    "pos": lambda: build("pos", POS, 16),
    "pos-lstm": lambda: build("pos", POS, 16, replace(TINY, sentence_encoder="lstm")),
}


def structured(name):
    """A CRF tagger (pos) or bigram model (oracle) built like train.py --method crf does, with its batch."""
    task, tok, _, batch = CASES[name]()
    torch.manual_seed(1)
    gen = task.build_crf(tok, TINY, DataArguments(task=name, max_length=16 if name == "pos" else 20))
    with torch.no_grad():
        for p in gen.parameters():
            p.normal_(0, 0.5)  # not the zero-initialised transitions: a round trip must carry real values
    return task, tok, gen.eval(), batch


# ----------------------------------------------------------------------------- the GAN's parts wired like train.py

TINY_D = dict(disc_hidden_size=16, disc_layers=1, disc_heads=2, disc_ffn_size=32, disc_dropout=0.0)


def setup(name, bridge="reinforce", loss="standard", **gan):
    """Tiny G (from test_generator) + D + optimisers without weight decay, wired like train.py does."""
    task, tok, gen, batch = CASES[name]()
    args = GanArguments(bridge=bridge, gan_loss=loss, disc_causal=bridge == "dense", num_rollouts=2,
                        samples_per_input=2, **{**TINY_D, **gan})
    torch.manual_seed(0)
    disc = build_discriminator(gen.vocab_size, args, len(tok) if gen.conditional else 0, 64)
    acc = Accelerator(cpu=True)
    g_opt = torch.optim.AdamW(gen.parameters(), lr=1e-3, weight_decay=0.0)
    d_opt = torch.optim.AdamW([p for p in disc.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.0)
    ctx = BridgeContext(gen=gen, policy=gen, disc=disc, loss=LOSSES[loss], args=args, conditional=gen.conditional,
                        total_steps=10, rng=torch.Generator().manual_seed(0))
    return acc, GanModels(gen, disc, g_opt, d_opt, ctx, max_grad_norm=1.0), batch


# ----------------------------------------------------------------------------- tiny scripts/train.py runs

POS_TINY = ["--task", "pos", "--hidden_size", "32", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "64",
            "--char_dim", "8", "--char_filters", "8", "--batch_size", "8", "--max_steps", "3", "--eval_every", "3",
            "--min_steps", "0"]
TEXT_TINY = ["--task", "text", "--hidden_size", "16", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "32",
             "--batch_size", "8", "--max_steps", "3", "--eval_every", "3", "--num_eval_samples", "10",
             "--num_test_samples", "10", "--word_min_freq", "1"]


def conllu_head(src: Path, dst: Path, n: int, skip: int = 0) -> Path:
    """Sentences skip..skip+n of a CoNLL-U file, copied unchanged into dst (a small real treebank)."""
    blocks = src.read_text(encoding="utf-8").split("\n\n")
    dst.write_text("\n\n".join(blocks[skip:skip + n]) + "\n\n", encoding="utf-8")
    return dst


def write_conllu(rows: list[dict], path):
    path.write_text("".join("".join(f"{i}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_\n" for i, (w, t) in
                                    enumerate(zip(r["words"], r["tags"]), start=1)) + "\n" for r in rows),
                                    encoding="utf-8")
    return path


TINY_RUN = ["--hidden_size", "32", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "64", "--dev_size", "100",
        "--test_size", "100", "--num_eval_samples", "50", "--num_test_samples", "50"]
TINY_D_FLAGS = ["--disc_hidden_size", "16", "--disc_layers", "1", "--disc_heads", "2", "--disc_ffn_size", "32"]
ENV = {**os.environ, "SEQGAN_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}


def train_cmd(out, data_dir, *extra):
    return [sys.executable, str(ROOT / "scripts" / "train.py"), "--task", "oracle", "--data_dir", str(data_dir),
            "--output_dir", str(out), *TINY_RUN, *extra]


def same_run(a, b):
    """Identical final weights, test metrics and log (times and paths aside)."""
    wa, wb = (load_file(d / "last" / "generator" / "model.safetensors") for d in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    ea, eb = (json.loads((d / "eval_test.json").read_text()) for d in (a, b))
    assert {k: v for k, v in ea.items() if k not in ("checkpoint", "train_time_s")} == \
           {k: v for k, v in eb.items() if k not in ("checkpoint", "train_time_s")}
    logs = [[{k: v for k, v in json.loads(ln).items() if k != "time_s"}
             for ln in (d / "metrics.jsonl").read_text().splitlines()]
            for d in (a, b)]
    assert logs[0] == logs[1]


def newest_phase(states):
    done = sorted(p for p in states.iterdir() if p.name.startswith("step-")) if states.is_dir() else []
    return json.loads((done[-1] / "trainer_state.json").read_text())["phase"] if done else None

# ----------------------------------------------------------------------------- exact references

def chi_square_ok(counts: torch.Tensor, probs: torch.Tensor) -> tuple[bool, float]:
    """Pearson's statistic against exact probabilities, below df + 6 sd (a chance failure is < 1e-6)."""
    n = counts.sum()
    expected = probs * n
    stat = float(((counts - expected) ** 2 / expected).sum())
    df = len(probs) - 1
    return stat < df + 6 * (2 * df) ** 0.5, stat


def make_bigram(eos: bool, seed: int = 0) -> BigramEnergyModel:
    """V = 5 tokens, T = 3 positions: 0 = [PAD] and 1 = [BOS] are suppressed, 4 = [EOS] in EOS mode."""
    cfg = BigramEnergyConfig(vocab_size=5, seq_length=3, eos_id=4 if eos else None, bos_id=1, pad_id=0,
                             suppress_ids=[0, 1])
    model = BigramEnergyModel(cfg).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 1.5)
    return model
