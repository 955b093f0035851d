"""The two halves of the alternating GAN algorithm: a discriminator step and a generator step.

    logs = d_step(accelerator, models, batch)     # D: real batch vs fresh G samples, one optimiser step
    logs = g_step(accelerator, models, batch)     # G: D's signal through the bridge (+ lambda * MLE), D frozen

scripts/train.py --method gan runs k_D d_steps then k_G g_steps per round. Both models and both
optimisers are prepared by accelerate; sampling and D's scoring inside G's step use the
unwrapped modules, so no gradient of D is computed or synchronised there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from transformers import AutoConfig

from seqgan.checkpoint import holds_discriminator, load_discriminator
from seqgan.cli import NonFiniteError
from seqgan.models.discriminator import SeqGanDiscriminator, SeqGanDiscriminatorConfig
from seqgan.scoring.metrics import distinct_ids
from seqgan.training.bridges import BRIDGES, BridgeContext
from seqgan.training.losses import d_accuracy, mle_loss

if TYPE_CHECKING:
    from accelerate import Accelerator

    from seqgan.training.recorder import RunRecorder


@dataclass
class Guard:
    """Skips steps whose loss or gradient norm is NaN/inf; stops after `limit` in a row."""
    accelerator: Accelerator
    rec: RunRecorder
    limit: int = 10
    in_a_row: int = 0

    def nonfinite(self, **values) -> str | None:
        """The name of the first value (None values pass) that is NaN/inf on any process, else None. One
        gather per call, and every process gets the same answer, so DDP never waits on a skipped rank."""
        ok = [v is None or bool(torch.isfinite(torch.as_tensor(v)).all()) for v in values.values()]
        flags = self.accelerator.gather(torch.tensor([ok], device=self.accelerator.device)).all(0)  # (len(values),)
        return next((name for name, good in zip(values, flags.tolist()) if not good), None)

    def skip(self, step: int, what: str) -> None:
        self.in_a_row += 1
        self.rec.log({"step": step, "guard/nonfinite": what, "guard/in_a_row": self.in_a_row})
        self.rec.write(f"step {step}: non-finite {what}; step skipped ({self.in_a_row} in a row)")
        if self.in_a_row >= self.limit:
            raise NonFiniteError(f"{self.in_a_row} steps in a row had a non-finite {what}; stopping. The last good "
                                 "training state is in <output_dir>/checkpoints: lower the learning rate or check the "
                                 "data, then --resume_from_checkpoint latest.")

    def good(self) -> None:
        self.in_a_row = 0


@dataclass
class GanModels:
    gen: torch.nn.Module       # prepared generator
    disc: torch.nn.Module      # prepared discriminator
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    ctx: BridgeContext         # bridge inputs: unwrapped G (policy) and D, loss, options, step counter
    max_grad_norm: float
    guard: Guard | None = None  # skips non-finite steps (None: no checks)


def guarded_step(accelerator, loss, model, optimizer, max_grad_norm: float, guard, step: int, what: str,
                 scheduler=None) -> tuple[bool, float | None]:
    """Backward, clip and step, unless the loss or the gradient norm is NaN/inf on any process (then the
    step is skipped and the guard counts it). Returns (stepped, gradient norm). Nine parameters, each a distinct part
    of one optimiser step that every caller (MLE, CRF, D and G steps, the benchmark) holds separately.

    Both are checked together after the backward pass, in one cross-process check per step: a
    non-finite loss only makes gradients that are discarded with the step."""
    accelerator.backward(loss)
    norm = None
    if accelerator.sync_gradients and max_grad_norm > 0:
        norm = accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
    bad = guard.nonfinite(loss=loss, gradient=norm) if guard is not None else None
    if bad is not None:
        optimizer.zero_grad()
        guard.skip(step, f"{what} {bad}")
        return False, None
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad()
    return True, norm


def _sequence_logits(d: torch.Tensor, mask: torch.Tensor, causal: bool) -> torch.Tensor:
    """D's output -> logits to train on: one per sequence, or one per real prefix for a causal D (flattened)."""
    return d[mask] if causal else d


def d_step(accelerator, m: GanModels, batch: dict) -> dict:
    ctx = m.ctx
    cond = batch if ctx.conditional else None
    n = batch["labels"].shape[0]
    with torch.no_grad(), accelerator.autocast():  # --mixed_precision: sampling runs in it too (log-softmax in fp32)
        fake = ctx.policy.sample(cond, num_samples=None if cond else n, rng=ctx.rng, global_rows=ctx.global_rows(n))
    causal = ctx.disc.config.causal
    m.disc.train()
    with accelerator.accumulate(m.gen, m.disc):
        with accelerator.autocast():
            d_real = _sequence_logits(m.disc(tokens=batch["labels"], mask=batch["mask"], cond=cond), batch["mask"],
                                      causal)
            d_fake = _sequence_logits(m.disc(tokens=fake.tokens, mask=fake.mask, cond=cond), fake.mask, causal)
            loss = ctx.loss.d(d_real, d_fake, paired=not causal)  # D's logits are fp32; per-prefix ones come unequal
        ok, norm = guarded_step(accelerator, loss, m.disc, m.d_opt, m.max_grad_norm, m.guard, ctx.step,
                                "discriminator")
    if not ok:
        return {}
    acc_real, acc_fake = d_accuracy(d_real.detach(), d_fake.detach(), ctx.loss.relativistic)
    return {"gan/d_loss": loss.item(), "gan/d_acc_real": acc_real, "gan/d_acc_fake": acc_fake,
            "gan/d_acc": (acc_real + acc_fake) / 2, "gan/d_grad_norm": None if norm is None else float(norm)}


def g_step(accelerator, m: GanModels, batch: dict) -> dict:
    ctx = m.ctx
    bridge = BRIDGES[ctx.args.bridge]
    ctx.disc.requires_grad_(False)  # D is a fixed critic here: no gradient is computed for it
    try:
        with accelerator.accumulate(m.gen, m.disc):
            with accelerator.autocast():  # the bridge's sampling, rollouts, D scores and G's forward
                loss, logs, samples = bridge(ctx, batch)
                if ctx.args.mle_weight > 0:
                    mle = mle_loss(m.gen(batch), batch["labels"], batch["mask"])
                    loss = loss + ctx.args.mle_weight * mle
                    logs["gan/mle_loss"] = mle.item()
            ok, norm = guarded_step(accelerator, loss, m.gen, m.g_opt, m.max_grad_norm, m.guard, ctx.step, "generator")
        if not ok:  # a NaN/inf reward, loss or gradient: the step was skipped
            return {}
    finally:
        ctx.disc.requires_grad_(True)
        ctx.disc.encoder.get_input_embeddings().requires_grad_(False)  # never trained (see SeqGanDiscriminator)
    ctx.step += 1
    if m.guard is not None:
        m.guard.good()
    logs.update({"gan/g_loss": loss.item(), "gan/g_grad_norm": None if norm is None else float(norm),
                 "gan/distinct_2": distinct_ids(samples.tokens, samples.mask, 2)})
    return logs


def build_discriminator(vocab_size: int, gan_args, cond_vocab_size: int = 0, max_positions: int = 512,
                        token_strings: list[str] | None = None,
                        cond_strings: list[str] | None = None) -> SeqGanDiscriminator:
    """D from `--disc_name_or_path` (a GAN run or Hub repo with discriminator/, a seqgan discriminator folder, or
    any transformers encoder, whose embeddings then start from `token_strings` / `cond_strings`: see
    `SeqGanDiscriminator.from_encoder`) or configured from scratch."""
    name = gan_args.disc_name_or_path
    if name and holds_discriminator(name):  # a GAN run / checkpoint / Hub repo with discriminator/
        disc = load_discriminator(name)
    elif name:
        cfg = AutoConfig.from_pretrained(name)
        if isinstance(cfg, SeqGanDiscriminatorConfig):
            disc = SeqGanDiscriminator.from_pretrained(name, use_safetensors=True)
        else:
            disc = SeqGanDiscriminator.from_encoder(name, vocab_size, causal=gan_args.disc_causal,
                                                    cond_vocab_size=cond_vocab_size, token_strings=token_strings,
                                                    cond_strings=cond_strings)
    else:
        h, L, heads, ffn, p = (gan_args.disc_hidden_size, gan_args.disc_layers, gan_args.disc_heads,
                               gan_args.disc_ffn_size,
                               gan_args.disc_dropout)
        if gan_args.disc_causal:
            enc = {"model_type": "gpt2", "vocab_size": 1, "n_embd": h, "n_layer": L, "n_head": heads, "n_inner": ffn,
                   "n_positions": max_positions, "resid_pdrop": p, "embd_pdrop": p, "attn_pdrop": p,
                   "bos_token_id": None, "eos_token_id": None}  # D's inputs come through its own embedding
        else:
            enc = {"model_type": "bert", "vocab_size": 1, "hidden_size": h, "num_hidden_layers": L,
                   "num_attention_heads": heads,
                   "intermediate_size": ffn, "max_position_embeddings": max_positions, "type_vocab_size": 1,
                   "pad_token_id": 0,
                   "hidden_dropout_prob": p, "attention_probs_dropout_prob": p}
        disc = SeqGanDiscriminator(SeqGanDiscriminatorConfig(vocab_size=vocab_size, encoder=enc,
                                                             causal=gan_args.disc_causal,
                                                             cond_vocab_size=cond_vocab_size))
    if disc.config.vocab_size != vocab_size:
        raise ValueError(f"the discriminator judges a vocabulary of {disc.config.vocab_size} tokens but the generator "
                         "emits "
                         f"{vocab_size}; use a discriminator trained with this generator's tokenizer, or none (from "
                         "scratch).")
    if disc.config.causal != gan_args.disc_causal:
        raise ValueError(f"--disc_causal {gan_args.disc_causal} contradicts the loaded discriminator (causal="
                         f"{disc.config.causal}); drop the flag or load another discriminator.")
    if (bool(disc.config.cond_vocab_size) != bool(cond_vocab_size)
            or (cond_vocab_size and disc.config.cond_vocab_size != cond_vocab_size)):
        raise ValueError(f"the discriminator's sentence vocabulary ({disc.config.cond_vocab_size}) does not match "
                         f"this task's ({cond_vocab_size}); a pos D must be trained with the same word tokenizer.")
    return disc
