"""Typed run configuration, parsed by `HfArgumentParser`.

Five dataclasses (data, model, training, GAN, CRF) hold every hyperparameter exactly once. A task
may override their *defaults* (`parse_args(argv, defaults=...)`, a function of task and method: the
tasks package passes its modules' `DEFAULTS`, keyed by method); the command line or a
YAML/JSON file overrides those:

    python scripts/train.py --task pos --num_train_epochs 5
    python scripts/train.py my_run.yaml          # same keys as the flags
    python scripts/train.py --task pos --help    # the options a pos run reads, with its defaults (seqgan/usage.py)
    python scripts/train.py --help_all           # every option, grouped by dataclass
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import yaml

from seqgan.cli import make_parser, parse_strict, renamed_flags, warn_renamed
from seqgan.usage import run_help

# The choices of the options that pick a function from a dict. config imports nothing from the models or the training
# code (so --help and option checks load neither); tests/test_config.py holds each tuple equal to its dict's keys.
SENTENCE_ENCODERS = ("transformer", "lstm")  # seqgan/models/tagger.py SENTENCE_ENCODERS
CRF_LOSSES = ("nll", "perceptron", "hinge", "gen_negatives")  # seqgan/models/crf_tagger.py CRF_LOSSES
BRIDGE_NAMES = ("reinforce", "rollout", "dense", "gumbel", "st-gumbel")  # seqgan/training/bridges.py BRIDGES
GAN_LOSSES = ("standard", "rsgan", "hinge")  # seqgan/training/losses.py LOSSES
PROTOCOLS = ("seqgan", "texygen")  # seqgan/scoring/protocols.py PROTOCOLS
# seqgan/training/methods.py METHODS: what each method is and the functions that build and train it.
METHODS = ("mle", "gan", "cot", "energy", "crf", "hmm", "random-code", "ae", "vae", "latent-gan")
ENERGY_TERMS = ("label_lm", "conv")  # seqgan/models/energy_tagger.py ENERGY_TERMS
AVERAGED_METHODS = ("mle", "crf", "energy")  # the supervised-loop methods --average_weights applies to
LATENT_METHODS = ("random-code", "ae", "vae", "latent-gan")  # generators from a prior (seqgan/models/latent.py)
TAGGING_TASKS = ("pos", "segment")  # conditional: one label per input unit (a word, a character), the tagger's models


@dataclass
class DataArguments:
    _argument_group_name = "data"
    task: str = field(default="pos", metadata={"help": "Task to run: pos, segment, text or oracle."})
    data_dir: str | None = field(
        default=None,
        metadata={"help": "Folder holding the data (layout of ../shared/data). Falls back to $SEQGAN_DATA_DIR, "
                  "then to a download cache (~/.cache/seqgan)."},
    )
    max_length: int = field(default=64,
                            metadata={"help": "Longest sequence (words, tags or tokens) the model accepts."})
    long_sequences: str = field(default="truncate", metadata={
        "help": "Training sequences longer than --max_length: 'truncate' (with a warning) or 'error'. Dev and test "
                "sequences are never truncated (their metrics must cover every word): raise --max_length instead."})
    dev_size: int = field(default=500, metadata={"help": "Size of the dev split where a task carves or samples one."})
    test_size: int = field(default=10000,
                           metadata={"help": "Size of the test split where a task samples one (oracle)."})
    num_eval_samples: int = field(
        default=1000,
        metadata={"help": "Generated samples per evaluation for sample-based metrics (NLL_oracle, text samples)."}
    )
    num_test_samples: int = field(
        default=10000,
        metadata={"help": "Generated samples for the final test evaluation (10,000 as in SeqGAN/Texygen)."}
    )
    data_seed: int = field(default=1234,
                           metadata={"help": "Seed for data splits and oracle samples (independent of --seed)."})
    train_file: str | None = field(default=None, metadata={
        "help": "Your own training file instead of the task's benchmark: CoNLL-U (pos, any UD language), one sentence "
                "per line (text) or lines of token ids (oracle). Needs --test_file; without --validation_file a "
                "seeded dev split of --dev_size examples is carved from it."})
    validation_file: str | None = field(default=None,
                                        metadata={"help": "Dev file (same format as --train_file): picks best/."})
    test_file: str | None = field(default=None,
                                  metadata={"help": "Test file (same format as --train_file): the final figures."})
    tag_column: str = field(default="upos", metadata={
        "help": "pos with CoNLL-U files: the tags to learn, 'upos' (column 4, the 17 universal tags) or 'xpos' "
                "(column 5, the treebank's own tags). The tag set is the one seen in the training data."})
    dataset_name: str | None = field(default=None, metadata={
        "help": "A Hugging Face dataset instead of files: a Hub id, a local dataset folder (save_to_disk or data "
                "files), or a loader name such as json/csv/parquet with --data_files."})
    dataset_config_name: str | None = field(default=None,
                                            metadata={"help": "The dataset's configuration (e.g. af_afribooms)."})
    data_files: str | None = field(default=None, metadata={
        "help": "With --dataset_name json/csv/parquet: comma-separated split=path pairs, e.g. "
                "'train=a.json,validation=b.json,test=c.json'."})
    text_column: str = field(default="text",
                             metadata={"help": "text/oracle with --dataset_name: the column holding the sentence."})
    tokens_column: str = field(default="tokens",
                               metadata={"help": "pos with --dataset_name: the column holding the words."})
    tags_column: str = field(default="upos", metadata={
        "help": "pos with --dataset_name: the column holding the tags (strings, or a ClassLabel sequence mapped by "
                "name)."})
    dataset_license: str | None = field(default=None, metadata={
        "help": "License of your --train_file / --dataset_name data, for the model card (e.g. cc-by-sa-4.0); "
                "default 'unknown'. The card never names a bundled benchmark the run did not use."})
    protocol: str = field(default="seqgan", metadata={
        "help": "text: how results are measured, one of seqgan, texygen (seqgan/scoring/protocols.py). texygen: "
                "nltk.word_tokenize words, a vocabulary of train + test with no [UNK] (--word_min_freq is not used), "
                "and Texygen's BLEU settings, so that its published COCO rows compare like with like."})
    max_train_samples: int | None = field(default=None, metadata={
        "help": "Train on the first N training examples only (a low-resource regime, e.g. 1000 EWT sentences); the "
                "vocabulary and tag set come from those N. Dev and test are unchanged (a dev split carved from train "
                "is carved before the cut)."})

    def __post_init__(self):
        if self.max_train_samples is not None and self.max_train_samples < 1:
            raise ValueError("--max_train_samples must be >= 1 (or left out for all of train), got "
                             f"{self.max_train_samples}.")
        check_protocol(self.protocol)
        if self.protocol != "seqgan" and self.task != "text":
            raise ValueError(f"--protocol {self.protocol} is a way of measuring text generation; it applies to --task "
                             f"text only (drop it for --task {self.task}).")
        if self.long_sequences not in ("truncate", "error"):
            raise ValueError(f"--long_sequences must be 'truncate' or 'error', got {self.long_sequences!r}.")
        if self.max_length < 1:
            raise ValueError(f"--max_length must be >= 1, got {self.max_length}.")
        if self.tag_column not in ("upos", "xpos"):
            raise ValueError("--tag_column must be 'upos' or 'xpos' (the CoNLL-U tag columns), got "
                             f"{self.tag_column!r}.")
        if (self.validation_file or self.test_file) and not self.train_file:
            raise ValueError("--validation_file/--test_file go with --train_file (your own data). To score a trained "
                             "model on another file use scripts/evaluate.py --test_file FILE.")
        if self.train_file and not self.test_file:
            raise ValueError("--train_file needs --test_file (the final figures come from it); --validation_file is "
                             "optional (a seeded dev split is carved from the training file without it).")
        if self.train_file and self.dataset_name:
            raise ValueError("--train_file and --dataset_name both name the training data; keep one.")
        if self.data_files and not self.dataset_name:
            raise ValueError("--data_files goes with --dataset_name (json, csv, parquet or a folder); for plain "
                             "CoNLL-U/text files use --train_file/--validation_file/--test_file.")


@dataclass
class ModelArguments:
    _argument_group_name = "model (generator, and the CRF's encoder)"
    generator_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Start G from a seqgan checkpoint, or (text) from any pretrained causal LM with its own "
                  "tokenizer (GPT-2, Llama, ...; a local folder or Hub id), instead of configuring one from scratch."},
    )
    encoder_name_or_path: str | None = field(default=None, metadata={
        "help": "pos: a pretrained encoder (BERT, RoBERTa, ...; local folder or Hub id) as the sentence encoder of "
                "the tagger and the CRF, with its own tokenizer: each word is read at its first subword (the word "
                "table and byte CNN are not used)."})
    trust_remote_code: bool = field(default=False, metadata={
        "help": "Allow a pretrained model or tokenizer to run its own Python code from its folder or Hub repo. Off: "
                "only transformers' built-in architectures load (safer)."})
    hidden_size: int = field(default=256, metadata={"help": "Transformer width."})
    num_layers: int = field(default=2, metadata={"help": "Transformer layers (the encoder's, for pos)."})
    num_heads: int = field(default=4, metadata={"help": "Attention heads."})
    ffn_size: int = field(default=1024, metadata={"help": "Feed-forward inner width."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout on embeddings, attention and feed-forward."})
    decoder_layers: int = field(default=1, metadata={"help": "pos, segment: layers of the causal tag decoder."})
    word_min_freq: int = field(
        default=2,
        metadata={"help": "pos/text: words seen fewer times in train map to [UNK] (char features still see them)."}
    )
    char_dim: int = field(default=64, metadata={"help": "pos, segment: byte-embedding width of the character CNN."})
    char_filters: int = field(default=128,
                              metadata={"help": "pos, segment: filters per kernel width in the character CNN."})
    word_dropout: float = field(
        default=0.1,
        metadata={"help": "pos, segment: probability of replacing a word by [UNK] in training (helps unseen words)."}
    )
    sentence_encoder: str = field(default="transformer", metadata={
        "help": f"pos, segment: the from-scratch sentence encoder of the tagger and the CRF, one of "
                f"{', '.join(SENTENCE_ENCODERS)} (a bidirectional BertModel, or a BiLSTM with --hidden_size // 2 "
                f"units a direction and --num_layers layers)."})
    prev_tag_dropout: float = field(
        default=0.1,
        metadata={"help": "pos, segment: probability of hiding the previous gold tag from the decoder in training."}
    )
    latent_size: int = field(default=32, metadata={
        "help": "random-code, ae, vae, latent-gan: size of the code z the decoder is conditioned on "
                "(seqgan/models/latent.py)."})
    kl_anneal_steps: int = field(default=500, metadata={
        "help": "vae: optimiser steps over which the KL weight rises linearly from 0 to 1 (0: weight 1 throughout)."})
    free_bits: float = field(default=0.05, metadata={
        "help": "vae: nats of KL per code dimension (batch mean) that cost nothing, against posterior collapse."})
    latent_word_dropout: float = field(default=0.25, metadata={
        "help": "ae, vae: probability of replacing a decoder input word by [UNK] in training, so the decoder "
                "needs z."})
    iwae_samples: int = field(default=10, metadata={
        "help": "random-code, ae, vae, latent-gan: importance samples k of the IWAE bound that NLLs report."})
    ae_proposal_scale: float = field(default=0.1, metadata={
        "help": "ae: the IWAE proposal is a Gaussian at the code with this times the fitted prior's deviation."})
    latent_code_seed: int = field(default=0,
                                  metadata={"help": "random-code: seed of the sequences' fixed random codes."})

    def __post_init__(self):
        if self.sentence_encoder not in SENTENCE_ENCODERS:
            raise ValueError(f"--sentence_encoder {self.sentence_encoder!r} is not one of "
                             f"{', '.join(SENTENCE_ENCODERS)}.")


def check_protocol(name: str) -> str:
    """--protocol of train.py and score_text.py: one of PROTOCOLS, else the error naming the choices."""
    if name not in PROTOCOLS:
        raise ValueError(f"--protocol {name!r} is not a protocol; choose one of: {', '.join(PROTOCOLS)}.")
    return name


TRACKERS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}  # --report_to name -> package


@dataclass
class TrainArguments:
    _argument_group_name = "training"
    output_dir: str | None = field(default=None, metadata={
        "help": "Run folder: checkpoints, metrics.jsonl, eval JSON (default runs/<task>-<method>[-<bridge>]). A "
                "folder that holds a run is never overwritten without --overwrite_output_dir."})
    overwrite_output_dir: bool = field(default=False, metadata={
        "help": "Replace the run already in --output_dir (its checkpoints, log and results are deleted first)."})
    method: str = field(default="mle", metadata={
        "help": f"What to train, one of {', '.join(METHODS)}. mle: maximum likelihood. gan: adversarial training of G "
                "against a sequence discriminator (GanArguments). "
                "crf: the discriminator-only baseline, a CRF (pos) or bigram energy model (text, oracle) "
                "(CrfArguments). energy (pos): an energy D over whole tag sequences and an inference network G "
                "trained together to output its argmax (--energy_terms). hmm (pos): a supervised HMM estimated by "
                "counting, decoded by Viterbi (the --hmm_* options). random-code, ae, vae (text, oracle): generators "
                "decoding a code from a prior; latent-gan: a GAN over a trained AE's codes (--init_from the ae run). "
                "cot (text, oracle): cooperative training against a mediator."})
    seed: int = field(default=42, metadata={"help": "Seed for initialisation, shuffling, dropout and sampling."})
    num_train_epochs: float = field(default=10.0,
                                    metadata={"help": "Passes over the training data (fractions allowed)."})
    batch_size: int = field(default=32, metadata={
        "help": "Sequences per batch in all, whatever the number of processes: each process takes its share of "
                "every batch, so a run means the same on 1 or N processes (N must be at most half of it)."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Batches per optimiser step."})
    mixed_precision: str | None = field(default=None, metadata={
        "help": "no, bf16 or fp16: autocast for every forward pass (MLE, D and G steps, sampling, rollouts, the CRF's "
                "encoder, evaluation), with log-softmax, losses, log Z, rewards and BLEU in fp32 and fp32 master "
                "weights "
                "(checkpoints stay fp32). Default: accelerate's setting (`accelerate launch --mixed_precision`), else "
                "no."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak AdamW learning rate."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (not on biases and norms)."})
    warmup_ratio: float = field(default=0.05, metadata={"help": "Fraction of steps with linear warm-up."})
    lr_scheduler: str = field(default="linear",
                              metadata={"help": "transformers scheduler name: linear, cosine, constant, ..."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0 disables)."})
    eval_every: int = field(default=0,
                            metadata={"help": "Evaluate on dev every N optimiser steps (0: once per epoch)."})
    log_every: int = field(default=50, metadata={"help": "Log training loss every N optimiser steps."})
    max_steps: int = field(default=0, metadata={"help": "Stop after N optimiser steps (0: run all epochs)."})
    early_stopping_patience: int = field(default=0, metadata={
        "help": "MLE/CRF: stop when the task's dev selection metric (the one that picks best/) has not improved for N "
                "dev evaluations in a row; best/ is then the state it picked (0: train every epoch)."})
    average_weights: bool = field(default=False, metadata={
        "help": "MLE/CRF: evaluate and save an exponential moving average of the weights (bias-corrected, so the "
                "first steps' weights fade out) instead of the weights themselves; for the CRF perceptron, the "
                "averaged perceptron's neural analogue."})
    average_decay: float = field(default=0.999, metadata={
        "help": "--average_weights: decay of the average per optimiser step (0.999 averages over the last ~1,000 "
                "steps)."})
    min_steps: int = field(default=0, metadata={
        "help": "Train at least N optimiser steps: on a small dataset the default --num_train_epochs is raised to the "
                "whole number of epochs that reaches N (pos: 1200, so a 1,300-sentence treebank trains 30 epochs and "
                "EWT its 14 or 16). A --num_train_epochs you set yourself is kept as given (unless you also set "
                "--min_steps)."})
    resume_from_checkpoint: str | None = field(default=None, metadata={
        "help": "Resume an interrupted run: 'latest' (the newest training state in --output_dir/checkpoints) or a "
                "state folder. Same options as the interrupted run; it ends exactly as an uninterrupted run would."})
    save_every: int = field(default=0, metadata={
        "help": "Write a training state every N steps (MLE/CRF optimiser steps, GAN rounds); 0: at every dev "
                "evaluation."})
    save_total_limit: int = field(default=2,
                                  metadata={"help": "Keep the newest K training states (older ones are deleted)."})
    max_nonfinite_steps: int = field(default=10, metadata={
        "help": "A NaN/inf loss, reward or gradient skips the step; this many in a row stop the run."})
    collapse_min_distinct_2: float = field(default=0.05, metadata={
        "help": "Warn of mode collapse when distinct-2 of fresh samples (GAN steps, dev samples) falls below this."})
    collapse_min_unique: float = field(default=0.5, metadata={
        "help": "Warn of mode collapse when the unique-sentence ratio of dev samples falls below this."})
    report_to: str = field(default="none", metadata={
        "help": "Trackers that receive the metrics written to metrics.jsonl, through accelerate: none, all (every "
                "installed one), or a comma-separated list of tensorboard, wandb, mlflow. TensorBoard logs go to "
                "<output_dir>/<tracker>/ (pip install -e '.[tensorboard]' in the clone)."})
    push_to_hub: bool = field(default=False, metadata={
        "help": "At the end, push best/ (with eval results and a model card) to --hub_model_id. Token: $HF_TOKEN or "
                "stored login."})
    hub_model_id: str | None = field(default=None, metadata={"help": "Hub repository for --push_to_hub, user/name."})
    hub_private: bool = field(default=False, metadata={"help": "Create the --push_to_hub repository as private."})

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"--method {self.method!r} is not available; choose one of {', '.join(METHODS)}.")
        if self.batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ValueError("--batch_size and --gradient_accumulation_steps must be at least 1.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}.")
        if self.save_total_limit < 1:
            raise ValueError("--save_total_limit must be >= 1 (the state to resume from), got "
                             f"{self.save_total_limit}.")
        if self.mixed_precision not in (None, "no", "bf16", "fp16"):
            raise ValueError(f"--mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}.")
        if self.overwrite_output_dir and self.resume_from_checkpoint:
            raise ValueError("--overwrite_output_dir deletes the run that --resume_from_checkpoint continues; keep "
                             "one.")
        self.report_to = ",".join(t.strip() for t in self.report_to.split(",") if t.strip()) or "none"
        unknown = sorted(set(self.report_to.split(",")) - set(TRACKERS) - {"none", "all"})
        if unknown:
            raise ValueError(f"--report_to {', '.join(unknown)} is not supported; choose none, all or a "
                             f"comma-separated list of {', '.join(TRACKERS)}.")
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("--push_to_hub needs --hub_model_id user/name (the repository to push to).")
        if self.num_train_epochs <= 0 and self.max_steps <= 0:
            raise ValueError("Set --num_train_epochs > 0 or --max_steps > 0, otherwise nothing trains.")
        if not 0.0 < self.average_decay < 1.0:
            raise ValueError(f"--average_decay must be in (0, 1), got {self.average_decay}.")
        if self.early_stopping_patience < 0:
            raise ValueError("--early_stopping_patience must be >= 0 (0 turns it off), got "
                             f"{self.early_stopping_patience}.")


BASELINES = ("rloo", "mean", "ema", "none")
SCHEDULES = ("constant", "linear", "exp")


@dataclass
class GanArguments:
    _argument_group_name = "adversarial and cooperative training (--method gan, latent-gan, cot)"
    init_from: str | None = field(default=None, metadata={
        "help": "gan, cot: start G from this MLE checkpoint (run folder, checkpoint folder or Hub id), its tokenizer "
                "included (latent-gan: the autoencoder run)."})
    mle_pretrain_epochs: float = field(default=0.0, metadata={
        "help": "gan or cot without --init_from: MLE epochs for G in the same run before the adversarial phase."})
    bridge: str = field(default="reinforce", metadata={
        "help": f"How D's signal reaches G through discrete samples: {', '.join(BRIDGE_NAMES)}."})
    gan_loss: str = field(default="standard", metadata={
        "help": "standard (non-saturating), rsgan (relativistic standard, RelGAN's choice) or hinge."})
    adv_steps: int = field(default=200,
                           metadata={"help": "Rounds (each: --d_steps D or mediator steps, then --g_steps G steps)."})
    d_steps: int = field(default=1,
                         metadata={"help": "k_D: discriminator (cot: mediator) steps per round, on real data and "
                                           "fresh G samples."})
    g_steps: int = field(default=1, metadata={"help": "k_G: generator steps per round, through the bridge."})
    d_pretrain_steps: int = field(default=100,
                                  metadata={"help": "Discriminator (cot: mediator) steps before the first round (G "
                                                    "fixed)."})
    g_learning_rate: float = field(default=1e-4,
                                   metadata={"help": "Generator learning rate in the adversarial phase (AdamW)."})
    d_learning_rate: float = field(default=1e-4,
                                   metadata={"help": "Discriminator (cot: mediator) learning rate (AdamW)."})
    mle_weight: float = field(default=0.0,
                              metadata={"help": "lambda: weight of a teacher-forced MLE term on real data in G's "
                                                "loss."})
    samples_per_input: int = field(default=4, metadata={
        "help": "pos: K samples per sentence in G's step (RLOO groups). Unconditional tasks draw --batch_size "
                "samples, one group."})
    baseline: str = field(default="rloo", metadata={
        "help": "REINFORCE baseline: rloo (leave-one-out over a group), mean (group mean), ema (moving average) or "
                "none."})
    baseline_decay: float = field(default=0.9, metadata={"help": "Decay of the moving-average (ema) baseline."})
    entropy_coef: float = field(default=0.0,
                                metadata={"help": "Entropy bonus weight for the REINFORCE-style bridges."})
    cold_temperature: float = field(default=1.0, metadata={
        "help": "reinforce, ColdGAN-style (Scialom et al. 2020): G's step draws its samples from q, G at this "
                "temperature (< 1: colder, nearer G's modes, where D's judgement is informative), and weights each "
                "sample's policy gradient by the importance ratio p_G(y) / q(y), clipped at --cold_clip. "
                "1: on-policy."})
    cold_clip: float = field(default=5.0, metadata={
        "help": "reinforce with --cold_temperature: upper clip of the importance ratio p_G(y) / q(y) (bounds the "
                "gradient's variance at the price of a bias; inf: unclipped, unbiased)."})
    num_rollouts: int = field(default=16,
                              metadata={"help": "rollout: Monte-Carlo completions per prefix (SeqGAN used 16)."})
    rollout_max_rows: int = field(default=2048, metadata={
        "help": "rollout: rows (prefix x rollout x sequence) decoded at once; bounds memory, and on CPU ~1-2k is "
                "fastest."})
    dense_gamma: float = field(default=0.9, metadata={"help": "dense: discount of per-prefix rewards in the returns."})
    gumbel_beta_max: float = field(default=100.0,
                                   metadata={"help": "gumbel: final inverse temperature beta_max of the relaxation."})
    gumbel_schedule: str = field(default="exp", metadata={
        "help": "gumbel: beta schedule over the run's N adversarial G steps: constant, linear, or exp "
                "(beta_max^(n/N))."})
    disc_name_or_path: str | None = field(default=None, metadata={
        "help": "D from a seqgan discriminator checkpoint or any transformers encoder (folder or Hub id); default: "
                "from scratch."})
    disc_causal: bool = field(default=False,
                              metadata={"help": "Causal D (GPT-2 encoder): a score for every prefix. Needed by "
                                                "--bridge dense."})
    disc_hidden_size: int = field(default=128, metadata={"help": "From-scratch D: encoder width."})
    disc_layers: int = field(default=2, metadata={"help": "From-scratch D: encoder layers."})
    disc_heads: int = field(default=4, metadata={"help": "From-scratch D: attention heads."})
    disc_ffn_size: int = field(default=512, metadata={"help": "From-scratch D: feed-forward width."})
    disc_dropout: float = field(default=0.1, metadata={"help": "From-scratch D: dropout."})
    gan_eval_every: int = field(default=50,
                                metadata={"help": "Evaluate on dev (and maybe save best/) every N rounds."})
    gan_log_every: int = field(default=10, metadata={"help": "Log averaged gan/* metrics every N rounds."})
    gp_weight: float = field(default=10.0,
                             metadata={"help": "latent-gan: weight of the WGAN-GP gradient penalty on the critic."})
    latent_finetune_encoder: bool = field(default=False, metadata={
        "help": "latent-gan: also train the AE's encoder (reconstruction + the critic's signal) and decoder, as ARAE "
                "does."})

    def __post_init__(self):
        for name, value, choices in (("bridge", self.bridge, BRIDGE_NAMES), ("gan_loss", self.gan_loss, GAN_LOSSES),
                                     ("baseline", self.baseline, BASELINES),
                                     ("gumbel_schedule", self.gumbel_schedule, SCHEDULES)):
            if value not in choices:
                raise ValueError(f"--{name} {value!r} is not one of {', '.join(choices)}.")
        if self.bridge == "dense" and not self.disc_causal:
            raise ValueError("--bridge dense needs a score for every prefix: add --disc_causal (a causal "
                             "discriminator).")
        if self.baseline == "rloo" and self.samples_per_input < 2:
            raise ValueError("--baseline rloo needs --samples_per_input >= 2 (a leave-one-out mean over one sample is "
                             "undefined); raise it or use --baseline ema.")
        if self.gumbel_beta_max < 1.0:
            raise ValueError("--gumbel_beta_max must be >= 1 (beta grows from 1 to beta_max), got "
                             f"{self.gumbel_beta_max}.")
        if min(self.adv_steps, self.d_steps, self.g_steps) < 0 or self.num_rollouts < 1:
            raise ValueError("--adv_steps, --d_steps, --g_steps must be >= 0 and --num_rollouts >= 1.")
        if not 0.0 < self.dense_gamma <= 1.0:
            raise ValueError(f"--dense_gamma must be in (0, 1], got {self.dense_gamma}.")
        if not self.cold_temperature > 0 or not self.cold_clip > 0:
            raise ValueError(f"--cold_temperature and --cold_clip must be > 0, got {self.cold_temperature}, "
                             f"{self.cold_clip}.")
        if self.cold_temperature != 1.0 and self.bridge != "reinforce":
            raise ValueError("--cold_temperature corrects REINFORCE's samples by importance weights; --bridge "
                             f"{self.bridge} draws its own. Use --bridge reinforce, or leave --cold_temperature at 1.")




@dataclass
class CrfArguments:
    _argument_group_name = "discriminator alone (--method crf, --method hmm) and the energy D (--method energy)"
    crf_loss: str = field(default="nll", metadata={
        "help": "crf: how negatives enter training. nll: all sequences via the partition function; perceptron: the "
                "model's own Viterbi output; hinge: Hamming-cost-augmented Viterbi; gen_negatives: samples of a "
                "trained generator (--negatives_from). text and oracle take nll only."})
    negatives_from: str | None = field(default=None, metadata={
        "help": "crf --crf_loss gen_negatives: the generator checkpoint (run folder, checkpoint or Hub id) that "
                "samples negatives."})
    num_negatives: int = field(default=8,
                               metadata={"help": "crf --crf_loss gen_negatives: negatives sampled per sentence."})
    bigram_smoothing: float = field(default=0.1, metadata={
        "help": "crf, text/oracle: add-k smoothing of the bigram counts the energy model starts from before CRF "
                "training."})
    energy_terms: str = field(default="label_lm,conv", metadata={
        "help": f"energy: the global terms of D's energy beside the CRF's first-order ones, comma-separated, from "
                f"{', '.join(ENERGY_TERMS)}; 'none' keeps the first-order energy alone (Viterbi is then its exact "
                "argmax, and the test JSON's search_error measures G against it)."})
    energy_ce_weight: float = field(default=1.0, metadata={
        "help": "energy: weight of the cross-entropy of G's two inference networks against the gold tags, beside "
                "the hinge (Tu, Pang & Gimpel 2020's stabilising term)."})
    energy_g_weight: float = field(default=1.0, metadata={
        "help": "energy: weight of G's energy term (the inference network maximising D's frozen score of its output). "
                "0 trains G by cross-entropy alone beside the same D: the control that tells D's signal from the "
                "inference network's architecture."})
    hmm_smoothing: float = field(default=1.0, metadata={
        "help": "hmm: pseudo-counts that pull a known word's tag distribution toward its suffix model (0: relative "
                "frequencies, so a word never keeps a tag it was not seen with)."})
    hmm_order: int = field(default=2, metadata={
        "help": "hmm: 2 (bigram transitions) or 3 (trigram, TnT's; decoded over tag pairs, about 18 times the work)."})
    hmm_suffix_length: int = field(default=10, metadata={
        "help": "hmm: longest word ending (in bytes) the unknown-word model reads (TnT: 10)."})
    hmm_rare_max: int = field(default=10, metadata={
        "help": "hmm: training words seen at most this often teach the unknown-word (suffix) model (TnT: 10)."})

    def __post_init__(self):
        if self.crf_loss not in CRF_LOSSES:
            raise ValueError(f"--crf_loss {self.crf_loss!r} is not one of {', '.join(CRF_LOSSES)}.")
        if (self.crf_loss == "gen_negatives") != (self.negatives_from is not None):
            raise ValueError("--crf_loss gen_negatives and --negatives_from CKPT go together: the generator that "
                             "samples the negatives is named by --negatives_from.")
        if self.num_negatives < 1:
            raise ValueError(f"--num_negatives must be >= 1, got {self.num_negatives}.")
        unknown = sorted(set(self.energy_term_list) - set(ENERGY_TERMS))
        if unknown:
            raise ValueError(f"--energy_terms: unknown term(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(ENERGY_TERMS)} (comma-separated), or 'none' for the first-order energy.")
        if self.energy_ce_weight < 0 or self.energy_g_weight < 0:
            raise ValueError(f"--energy_ce_weight and --energy_g_weight must be >= 0, got {self.energy_ce_weight} and "
                             f"{self.energy_g_weight}.")
        if self.hmm_order not in (2, 3):
            raise ValueError(f"--hmm_order must be 2 or 3, got {self.hmm_order}.")
        if self.hmm_smoothing < 0 or self.hmm_suffix_length < 0 or self.hmm_rare_max < 1:
            raise ValueError("--hmm_smoothing and --hmm_suffix_length must be >= 0 and --hmm_rare_max >= 1.")
        if self.bigram_smoothing <= 0:
            raise ValueError("--bigram_smoothing must be > 0 (unseen bigrams need some mass), got "
                             f"{self.bigram_smoothing}.")

    @property
    def energy_term_list(self) -> list[str]:
        """--energy_terms as a list ('none' and '' mean no global term)."""
        names = [t.strip() for t in self.energy_terms.split(",") if t.strip()]
        return [] if names == ["none"] else names


CONFIG_CLASSES = (DataArguments, ModelArguments, TrainArguments, GanArguments, CrfArguments)


@dataclass
class Options:
    """The five option groups of one run (what parse_args returns, as one object to hand down)."""
    data: DataArguments
    model: ModelArguments
    train: TrainArguments
    gan: GanArguments
    crf: CrfArguments


def _check_combinations(configs: tuple, given: set[str] = frozenset()) -> tuple:
    """Fill derived defaults and reject bad combinations; `given` names the options the user set."""
    data, model, train, gan, crf = configs
    if "average_weights" in given and train.average_weights and train.method not in AVERAGED_METHODS:
        raise ValueError(f"--average_weights averages MLE, CRF or energy training; --method {train.method} does not "
                         "use it (drop the flag, or train the MLE run with it and --init_from that run).")
    if train.method not in AVERAGED_METHODS:
        train.average_weights = False  # a task default for its MLE/CRF runs (pos): nothing to average here
    if "num_train_epochs" in given and "min_steps" not in given:
        train.min_steps = 0  # the user's own epoch count is kept as given
    if train.output_dir is None:
        suffix = {"gan": f"-{gan.bridge}", "crf": f"-{crf.crf_loss}"}.get(train.method, "")
        train.output_dir = f"runs/{data.task}-{train.method}{suffix}"
    if data.task == "segment" and train.method not in ("mle", "crf"):
        raise ValueError(f"--task segment trains a character tagger (--method mle) or a character CRF (--method crf); "
                         f"--method {train.method} is not offered for it. G + D for segmentation: evaluate.py "
                         "--rerank_with a CRF run.")
    if train.method == "crf" and data.task not in TAGGING_TASKS and crf.crf_loss != "nll":
        raise ValueError(f"--crf_loss {crf.crf_loss} needs a conditional structured model (pos); the unconditional "
                         f"bigram model of {data.task} trains by --crf_loss nll.")
    if train.method == "hmm" and (data.task != "pos" or model.encoder_name_or_path or model.generator_name_or_path):
        raise ValueError("--method hmm is a supervised tagger for --task pos, estimated from the training words "
                         "themselves (no --encoder_name_or_path or --generator_name_or_path); for text and oracle the "
                         "discriminator-alone model is --method crf.")
    if train.method in ("gan", "cot") and gan.init_from and model.generator_name_or_path:
        raise ValueError("--init_from and --generator_name_or_path both name a starting generator; keep one.")
    if model.encoder_name_or_path and "sentence_encoder" not in given:
        # a task default for from-scratch taggers (pos): the pretrained one replaces it
        model.sentence_encoder = "transformer"
    if model.sentence_encoder != "transformer" and (data.task not in TAGGING_TASKS or model.encoder_name_or_path):
        raise ValueError(f"--sentence_encoder {model.sentence_encoder} is the from-scratch pos tagger's encoder; drop "
                         f"it for --task {data.task} or with --encoder_name_or_path (that model is the encoder then).")
    if model.encoder_name_or_path and data.task != "pos":
        raise ValueError(f"--encoder_name_or_path is the pos tagger's sentence encoder; for --task {data.task} a "
                         "pretrained encoder can serve as D (--disc_name_or_path) and a causal LM as G "
                         "(--generator_name_or_path).")
    if train.method in LATENT_METHODS and (data.task in TAGGING_TASKS or model.generator_name_or_path):
        raise ValueError(f"--method {train.method} builds its own encoder and decoder for --task text or oracle (no "
                         "--generator_name_or_path; pos is conditional: --method mle, crf or hmm).")
    if train.method == "latent-gan" and not gan.init_from:
        raise ValueError("--method latent-gan models the codes of a trained autoencoder: train one with --method ae, "
                         "then pass it as --init_from runs/<task>-ae.")
    if train.method == "energy" and (data.task != "pos" or model.encoder_name_or_path
                                     or model.generator_name_or_path):
        raise ValueError("--method energy trains an energy over a sentence's tag sequence and an inference network "
                         "from scratch, for --task pos only (no --encoder_name_or_path or --generator_name_or_path); "
                         "for text and oracle, G + D trained together is --method cot.")
    if train.method == "cot" and data.task == "pos":
        raise ValueError("--method cot trains a language model against a mediator of the same kind (--task text or "
                         "oracle); for pos, G + D trained together is --method energy (or gan), or reranking by a CRF "
                         "(evaluate.py --rerank_with).")
    if train.method not in ("gan", "latent-gan", "cot") and gan.init_from:
        raise ValueError("--init_from starts an adversarial or cooperative run; add --method gan or cot, or use "
                         "--generator_name_or_path for MLE.")
    return configs


Defaults = Callable[[str, str], dict]  # (task, method) -> the task's defaults for that method


# Old option names that still work, with a FutureWarning naming the new one: the Hugging Face names replaced them.
RENAMED = {"--num_epochs": "--num_train_epochs"}


def parse_args(argv: list[str] | None = None, defaults: Defaults | None = None, doc: str | None = None) -> tuple[
        DataArguments, ModelArguments, TrainArguments, GanArguments, CrfArguments]:
    """Parse flags (or one YAML/JSON file) with `defaults(task, method)` applied first (seqgan.tasks.parse_args
    passes the tasks' own). An unknown flag prints one line with a suggestion and exits 2; prefixes are not accepted.
    --help prints the page of the run asked about (seqgan/usage.py; `doc`, the script's docstring, gives its
    description and examples); --help_all prints every option."""
    argv = renamed_flags(list(sys.argv[1:] if argv is None else argv), RENAMED)
    defaults = defaults or (lambda task, method: {})
    parser = make_parser(CONFIG_CLASSES)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml", ".json")):
        path = Path(argv[0])
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        values = (json.loads if path.suffix == ".json" else yaml.safe_load)(path.read_text()) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping of option names to values, got {type(values).__name__}")
        for flag, new_flag in RENAMED.items():  # an old option name in a config file is renamed, with a warning
            if flag[2:] in values:
                values[new_flag[2:]] = values.pop(flag[2:])
                warn_renamed(flag, new_flag)
        known = {f.name for cls in CONFIG_CLASSES for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown option(s) {unknown}; run scripts/train.py --help for the list.")
        merged = {**defaults(values.get("task", DataArguments.task), values.get("method", "mle")), **values}
        return _check_combinations(parser.parse_dict(merged), given=set(values))
    # The task and method decide the defaults, so read them first (this probe never prints help or errors).
    probe = make_parser((DataArguments, TrainArguments), add_help=False).parse_known_args(argv)[0]
    parser.set_defaults(**defaults(probe.task, probe.method))
    if "--help_all" in argv:
        parser.print_help()
        parser.exit()
    if "-h" in argv or "--help" in argv:  # the page of the run asked about: its task, method and bridge
        parser.set_defaults(task=probe.task, method=probe.method)
        run = parser.parse_known_args([a for a in argv if a not in ("-h", "--help")])[0]
        print(run_help(parser, vars(run), doc), end="")
        parser.exit()
    given = {a[2:].split("=", 1)[0] for a in argv if a.startswith("--")}
    return _check_combinations(parse_strict(parser, argv), given=given)
