"""The training methods of scripts/train.py (--method): one entry each, with what it is and the plain functions that
build and train it. The one owner of the methods: the choices of --method (seqgan.config.METHODS, a test holds the
two equal), the model card's description (seqgan/hub.py) and compare.py's row labels all read this dict.

    method = METHODS[options.train.method]
    gen = method.build(task, tokenizer, options, splits["train"])   # when the run does not start from a checkpoint
    done = method.train(Job(task, run, options, gen, tokenizer, start, encoded))   # Trained(step, epoch, gen, disc)

A `Job` holds what every method reads: the task module, the Run of seqgan/training/loops.py, the options (a
seqgan.config.Options), the generator (or CRF, HMM, latent model), its tokenizer and the encoded splits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from seqgan.config import Options
from seqgan.models.crf_tagger import CrfLossContext
from seqgan.models.energy_tagger import EnergyWeights, energy_loss
from seqgan.models.latent import LATENT_LOSSES
from seqgan.training.cot import train_cot
from seqgan.training.latent_gan import train_latent_gan
from seqgan.training.loops import Run, train_gan, train_supervised, weight_average
from seqgan.training.losses import Objective, mle_objective


@dataclass
class Job:
    task: Any                 # the task module (seqgan.tasks.Task)
    run: Run
    options: Options
    gen: Any                  # what the method trains: a generator, CRF / bigram model, HMM or latent model
    tokenizer: Any
    start: str | None         # the checkpoint or pretrained model it started from (None: from scratch)
    encoded: Any              # the encoded DatasetDict (the bigram model starts from the training labels' counts)
    negatives: Any = None     # crf --crf_loss gen_negatives: the generator that samples the negatives


@dataclass
class Trained:
    step: int                 # the run's last global step (GAN runs: the last round)
    epoch: int
    gen: Any                  # the state best/ and last/ score: the weight average where one was kept
    disc: Any = None          # GAN runs: D, saved with last/


def build_generator(task, tokenizer, options: Options, train) -> Any:
    return task.build_generator(tokenizer, options.model, options.data, train)  # pos: the tag set seen in training


def build_crf(task, tokenizer, options: Options, train) -> Any:
    return task.build_crf(tokenizer, options.model, options.data, train)


def build_energy(task, tokenizer, options: Options, train) -> Any:
    return task.build_energy(tokenizer, options.model, options.data, train, options.crf.energy_term_list)


def build_hmm(task, tokenizer, options: Options, train) -> Any:  # estimated by counting, here and now
    return task.build_hmm(tokenizer, options.model, options.data, train, options.crf)


def build_latent(task, tokenizer, options: Options, train) -> Any:
    return task.build_latent(tokenizer, options.model, options.data, options.train.method)


def train_mle(job: Job) -> Trained:
    train_args = job.options.train
    step, epoch, gen = train_supervised(job.run, job.gen, Objective(job.gen, mle_objective),
                                        train_args.num_train_epochs,
                                        weight_average(job.gen, train_args))
    return Trained(step, epoch, gen)


def _mle_start(job: Job) -> int:
    """G's MLE pretraining in the same run (without --init_from) before an adversarial or cooperative phase; the
    epochs it took. Later phases number their states after its steps (run.step_offset)."""
    run, step, epoch, gen = job.run, 0, 0, job.gen
    epochs = 0 if job.start else job.options.gan.mle_pretrain_epochs
    if epochs > 0:  # never averaged: parse_args turned --average_weights off for these methods
        step, epoch, _ = train_supervised(run, gen, Objective(gen, mle_objective), epochs,
                                          weight_average(gen, job.options.train))
    elif not job.start:
        raise ValueError(f"--method {job.options.train.method} needs a generator to start from: --init_from an MLE "
                         "run, or --mle_pretrain_epochs N.")
    run.step_offset = step
    return epoch


def train_gan_method(job: Job) -> Trained:
    """G's MLE pretraining in the same run (without --init_from), then the alternating algorithm against D."""
    epoch = _mle_start(job)
    disc = train_gan(job.run, job.gen, job.tokenizer)
    return Trained(job.options.gan.adv_steps, epoch, job.gen, disc)


def train_cot_method(job: Job) -> Trained:
    """G's MLE pretraining in the same run (without --init_from), then cooperative training against a mediator."""
    epoch = _mle_start(job)
    train_cot(job.run, job.gen)
    return Trained(job.options.gan.adv_steps, epoch, job.gen)


def train_crf(job: Job) -> Trained:
    """D alone: the CRF (pos) or bigram energy model (text, oracle) by its structured loss."""
    run, gen, crf_args, train_args = job.run, job.gen, job.options.crf, job.options.train
    if not hasattr(gen, "structured_loss"):
        raise ValueError(f"{job.start} is not a CRF or bigram model; --method crf trains those (drop "
                         "--generator_name_or_path).")
    acc = run.accelerator
    ctx = CrfLossContext(job.negatives, crf_args.num_negatives, torch.Generator(device=acc.device).manual_seed(
        train_args.seed * 1000 + acc.process_index))
    run.extra_generators = {"negatives": ctx.rng}
    if hasattr(gen, "init_from_counts") and not job.start:  # the bigram model starts at the smoothed counts
        gen.init_from_counts(job.encoded["train"]["labels"], crf_args.bigram_smoothing)
    objective = Objective(gen, lambda g, b, c: g.structured_loss(b, crf_args.crf_loss, c), ctx)
    step, epoch, gen = train_supervised(run, gen, objective, train_args.num_train_epochs,
                                        weight_average(gen, train_args))
    return Trained(step, epoch, gen)


def train_energy(job: Job) -> Trained:
    """G + D trained together (pos): the energy D and the inference network G by one joint objective
    (seqgan/models/energy_tagger.py energy_loss), in the supervised loop; dev scores G's greedy output."""
    train_args = job.options.train
    crf = job.options.crf
    objective = Objective(job.gen, energy_loss, EnergyWeights(crf.energy_ce_weight, crf.energy_g_weight))
    step, epoch, gen = train_supervised(job.run, job.gen, objective, train_args.num_train_epochs,
                                        weight_average(job.gen, train_args))
    return Trained(step, epoch, gen)


def train_hmm(job: Job) -> Trained:
    # nothing left to train: the counts are the model; dev scores it once
    job.run.rec.evaluate(0, 0, job.gen, phase="hmm")
    return Trained(0, 0, job.gen)


def train_latent(job: Job) -> Trained:
    loss = LATENT_LOSSES[job.options.train.method]
    step, epoch, _ = train_supervised(job.run, job.gen, Objective(job.gen, loss), job.options.train.num_train_epochs)
    return Trained(step, epoch, job.gen)


def train_latent_gan_method(job: Job) -> Trained:
    train_latent_gan(job.run, job.gen, job.options.gan.latent_finetune_encoder)
    return Trained(job.options.gan.adv_steps, 0, job.gen)


@dataclass(frozen=True)
class Method:
    family: str               # "G alone", "D alone" or "GAN": compare.py's order and the model card's tags
    description: str          # one line, the model card's "A seqgan model for the task: <description>"
    train: Callable[[Job], Trained]
    # (task, tokenizer, options, train split) -> the model, when not from a checkpoint
    build: Callable = build_generator
    label: Callable[[dict], str] = lambda res: ""  # compare.py's row label from a run's results and options
    result_keys: tuple[str, ...] = ()  # options copied into eval_test.json (compare.py labels rows by them)
    check_start: Callable[[Any, str | None], None] = lambda gen, start: None  # the model it starts from, checked
    card_detail: Callable[[dict], str] = lambda args: ""  # the model card's words on a run's options (its args.json)


def _start_from_an_autoencoder(gen, start: str | None) -> None:
    if getattr(gen, "kind", None) not in ("ae", "latent-gan"):
        raise ValueError(f"--init_from {start}: --method latent-gan models an autoencoder's codes; pass a run "
                         "trained with --method ae.")
    gen.model.config.kind = "latent-gan"  # samples now decode G's codes


def _gan_label(res: dict) -> str:
    recipe = [res.get("bridge"), res.get("gan_loss")]
    if res.get("cold_temperature", 1.0) != 1.0:
        recipe.append(f"cold T={res['cold_temperature']:g}")
    if res.get("bridge") == "dense" and "dense_gamma" in res:  # ScratchGAN-style runs differ in these two
        recipe.append(f"γ={res['dense_gamma']:g}, batch {res['batch_size']}")
    return f"GAN ({', '.join(map(str, recipe))})"


def _gan_card(args: dict) -> str:
    what = (f" (bridge `{args.get('bridge')}`, loss `{args.get('gan_loss')}`): {args.get('adv_steps')} rounds of "
            f"{args.get('d_steps')} D step(s) and {args.get('g_steps')} G step(s), G lr "
            f"{args.get('g_learning_rate')}, D lr {args.get('d_learning_rate')}, MLE weight {args.get('mle_weight')}")
    if args.get("bridge") in ("gumbel", "st-gumbel"):
        what += f", Gumbel beta_max {args.get('gumbel_beta_max')} ({args.get('gumbel_schedule')} schedule)"
    return what


def _energy_label(res: dict) -> str:
    if res.get("energy_g_weight") == 0:  # the control: G by cross-entropy alone, D trained beside it but unused
        return f"G alone: inference network by cross-entropy (energy's control){_averaged(res)}"
    return f"G + D: energy ({res.get('energy_terms') or 'first-order'}) + inference net{_averaged(res)}"


def _averaged(res: dict) -> str:
    return ", averaged" if res.get("average_weights", res.get("crf_average")) else ""  # crf_average: older runs' key


METHODS = {
    "mle": Method("G alone", "a generator trained by maximum likelihood", train_mle,
                  label=lambda res: f"G alone: MLE{' (weights averaged)' if _averaged(res) else ''}"),
    "gan": Method("GAN", "a generator fine-tuned adversarially against a sequence discriminator", train_gan_method,
                  label=_gan_label, result_keys=("bridge", "gan_loss"), card_detail=_gan_card),
    "cot": Method("GAN", "a generator trained cooperatively against a mediator, a language model of the mixture of "
                  "data and generator (CoT)", train_cot_method, label=lambda res: "G + D: CoT (mediator)",
                  card_detail=lambda args: f": {args.get('adv_steps')} rounds of {args.get('d_steps')} mediator "
                                           "step(s) "
                  f"and {args.get('g_steps')} G step(s), G lr {args.get('g_learning_rate')}, mediator lr "
                  f"{args.get('d_learning_rate')}"),
    "energy": Method("GAN", "an inference network trained to output the argmax of an energy over whole tag "
                     "sequences, the energy trained against the network's outputs (a SPEN with inference networks)",
                     train_energy, build=build_energy, result_keys=("energy_terms", "energy_g_weight"),
                     label=_energy_label,
                     card_detail=lambda args: f" (`--energy_terms {args.get('energy_terms')}`, cross-entropy weight "
                                              f"{args.get('energy_ce_weight')}, G's energy weight "
                                              f"{args.get('energy_g_weight')})"),
    "crf": Method("D alone", "the discriminator-only structured baseline (a CRF for pos, a bigram energy model for "
                  "text and oracle), decoded by Viterbi", train_crf, build=build_crf, result_keys=("crf_loss",),
                  card_detail=lambda args: f" (`--crf_loss {args.get('crf_loss')}`)",
                  label=lambda res: f"D alone: {res['d_alone']} ({res.get('crf_loss')}{_averaged(res)})"),
    "hmm": Method("D alone", "a supervised hidden Markov model estimated by counting, decoded by Viterbi", train_hmm,
                  build=build_hmm, label=lambda res: "D alone: HMM"),
    "random-code": Method("G alone", "a generator decoding fixed random codes (a prior over codes)", train_latent,
                          build=build_latent, label=lambda res: "G alone: random codes (NLL: IWAE bound)"),
    "ae": Method("G alone", "an autoencoder's decoder, sampled from a Gaussian fitted to its codes", train_latent,
                 build=build_latent, label=lambda res: "G alone: autoencoder (NLL: IWAE bound)"),
    "vae": Method("G alone", "a variational autoencoder's decoder, sampled from its prior", train_latent,
                  build=build_latent, label=lambda res: "G alone: VAE (NLL: IWAE bound)"),
    "latent-gan": Method("GAN", "an autoencoder's decoder on codes from a GAN trained on its codes (ARAE)",
                         train_latent_gan_method, label=lambda res: "GAN (latent codes, ARAE; NLL: IWAE bound)",
                         check_start=_start_from_an_autoencoder),
}
FAMILY_ORDER = {"G alone": 0, "D alone": 1, "GAN": 2}  # compare.py: G alone, then D alone, then the GANs
