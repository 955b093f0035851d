"""G from a prior: random codes, a sentence autoencoder, a VAE (Bowman et al. 2016), and ARAE's code-space GAN.

    accelerate launch scripts/train.py --task oracle --method random-code     # the lecture's first G-alone attempt
    accelerate launch scripts/train.py --task text --method ae
    accelerate launch scripts/train.py --task text --method vae
    accelerate launch scripts/train.py --task text --method latent-gan --init_from runs/text-ae   # ARAE
    python scripts/generate.py --checkpoint runs/text-vae --interpolate "a man rides a horse ." "two dogs play ." \
        --steps 8

One model (`SeqGanLatentModel`) serves all four: a GPT-2-style causal decoder reads a code z (--latent_size) that is
projected to the hidden size and added to the input embedding at *every* position (the memory-vector form of
conditioning: each step sees z directly, not only through attention to a prefix), and a bidirectional Transformer
encoder mean-pools a sentence into a code (AE), or into the mean and log-variance of a diagonal Gaussian (VAE).
- random-code: every training sequence keeps one fixed code drawn from N(0, I) (seeded by a hash of its tokens, so
  duplicates share it); the decoder learns code -> sequence by teacher forcing; samples decode fresh N(0, I) codes.
- ae: z = encoder(x), reconstruction loss; samples decode codes from a diagonal Gaussian fitted to the training codes
  (a running mean and variance of the codes of recent training batches, decay --prior_decay).
- vae: z ~ q(z | x); loss = reconstruction + beta * KL(q || N(0, I)), beta rising linearly to 1 over --kl_anneal_steps,
  each dimension's batch-mean KL floored at --free_bits nats, and decoder inputs replaced by [UNK] with probability
  --latent_word_dropout; samples decode N(0, I) codes.
- latent-gan: a trained AE whose codes are modelled by a generator MLP from N(0, I) noise (trained against a WGAN-GP
  critic, seqgan/training/latent_gan.py); samples decode the MLP's codes.
Likelihood: p(x) = E_{p(z)} p(x | z) has no closed form, so the reported NLL is the importance-weighted bound
(IWAE, Burda et al.) with k = --iwae_samples: log p(x) >= E log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x), an
*upper* bound on the NLL, tightening as k grows. Proposal q: the VAE's posterior; for the AE a Gaussian at the
code with --ae_proposal_scale times the prior's deviation; random-code and latent-gan have no usable posterior, so
z_i come from the prior itself (the plain Monte Carlo estimate, a looser bound).
"""

from __future__ import annotations

import hashlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoConfig, AutoModel, GPT2Config, GPT2LMHeadModel, PretrainedConfig, PreTrainedModel

from seqgan.models.generator import Generator, GrowableCache, Samples, shift_right
from seqgan.parallel import global_mean

KINDS = ("random-code", "ae", "vae", "latent-gan")


class SeqGanLatentConfig(PretrainedConfig):
    model_type = "seqgan_latent"

    def __init__(self, kind: str = "vae", decoder: dict | None = None, latent_size: int = 32, encoder_layers: int = 1,
                 seq_length: int = 20, fixed_length: bool = True, suppress_ids: list[int] | None = None,
                 bos_id: int = 1,
                 pad_id: int = 0, eos_id: int | None = None, unk_id: int = 3, free_bits: float = 0.0,
                 kl_anneal_steps: int = 0, word_dropout: float = 0.0, iwae_samples: int = 10,
                 ae_proposal_scale: float = 0.1, prior_decay: float = 0.99, code_seed: int = 0, **kwargs):
        """A transformers config takes each of its fields as a keyword (config.json is read back through here)."""
        self.kind, self.decoder = kind, decoder or {}
        self.latent_size, self.encoder_layers = latent_size, encoder_layers
        self.seq_length, self.fixed_length, self.suppress_ids = seq_length, fixed_length, sorted(suppress_ids or [])
        self.bos_id, self.pad_id, self.eos_id, self.unk_id = bos_id, pad_id, eos_id, unk_id
        self.free_bits, self.kl_anneal_steps, self.word_dropout = free_bits, kl_anneal_steps, word_dropout
        self.iwae_samples, self.ae_proposal_scale, self.prior_decay = iwae_samples, ae_proposal_scale, prior_decay
        self.code_seed = code_seed
        super().__init__(**kwargs)


def _frozen(*shape) -> nn.Parameter:
    return nn.Parameter(torch.zeros(*shape), requires_grad=False)  # saved and resumed with the weights, never trained


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.LeakyReLU(0.2), nn.Linear(d_hidden, d_hidden),
                         nn.LeakyReLU(0.2),
                         nn.Linear(d_hidden, d_out))


class SeqGanLatentModel(PreTrainedModel):
    config_class = SeqGanLatentConfig
    base_model_prefix = "latent"

    def __init__(self, config: SeqGanLatentConfig):
        super().__init__(config)
        dec = GPT2Config(**config.decoder)
        self.decoder = GPT2LMHeadModel(dec)
        d, L = dec.n_embd, config.latent_size
        layer = nn.TransformerEncoderLayer(d, dec.n_head, dec.n_inner or 4 * d, dec.resid_pdrop, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.encoder_layers, enable_nested_tensor=False)
        self.enc_pos = nn.Embedding(config.seq_length + 1, d)
        self.to_code = nn.Linear(d, 2 * L)            # (mean, log-variance); the AE uses the mean only
        self.from_code = nn.Linear(L, d)
        self.noise_to_code = _mlp(L, 4 * L, L)        # latent-gan: G
        self.critic = _mlp(L, 4 * L, 1)               # latent-gan: the WGAN critic
        self.prior_mean, self.prior_log_std = _frozen(L), _frozen(L)  # ae: the Gaussian fitted to training codes
        self.steps = _frozen(1)                       # training steps taken (KL annealing resumes exactly)
        self.post_init()

    def _init_weights(self, module):  # torch's defaults for the new layers; GPT-2 initialised its own
        pass

    def encode(self, labels: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of q(z | x): (B, L) each, from the mean of the encoder's outputs over real tokens."""
        T = labels.shape[1]
        x = self.decoder.get_input_embeddings()(labels.masked_fill(~mask, self.config.pad_id))  # (B, T, d)
        x = x + self.enc_pos(torch.arange(T, device=labels.device))[None]
        h = self.encoder(x, src_key_padding_mask=~mask)  # (B, T, d)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)  # (B, d)
        mean, logvar = self.to_code(pooled).chunk(2, -1)  # (B, L) each
        return mean, logvar.clamp(-10, 10)

    def logits(self, inputs: torch.Tensor, z: torch.Tensor, attn: torch.Tensor, pos=None, cache=None):
        """Decoder logits for input ids (B, T) given codes z (B, L); with `cache`, (logits, cache)."""
        emb = self.decoder.get_input_embeddings()(inputs) + self.from_code(z)[:, None]  # (B, T, d)
        out = self.decoder(inputs_embeds=emb, attention_mask=attn, position_ids=pos, cache=cache,
                           use_cache=cache is not None)
        return (out.logits, out.cache) if cache is not None else out.logits


AutoConfig.register(SeqGanLatentConfig.model_type, SeqGanLatentConfig)
AutoModel.register(SeqGanLatentConfig, SeqGanLatentModel)


def fixed_codes(labels: torch.Tensor, mask: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """random-code: each sequence's own N(0, I) code (B, L), seeded by a hash of its tokens: the same sequence gets
    the same code in every epoch and process, and nothing per example needs storing."""
    rows = []
    for toks, m in zip(labels.tolist(), mask.tolist()):
        key = hashlib.blake2b(repr((seed, [t for t, k in zip(toks, m) if k])).encode(), digest_size=8).digest()
        rows.append(torch.randn(size, generator=torch.Generator().manual_seed(int.from_bytes(key, "little") >> 1)))
    return torch.stack(rows).to(labels.device)


class LatentGenerator(Generator):
    """The Generator interface over SeqGanLatentModel: samples decode codes from the model's prior."""

    def __init__(self, model: SeqGanLatentModel):
        super().__init__()
        self.model, cfg = model, model.config
        self.bos_id, self.pad_id, self.max_length = cfg.bos_id, cfg.pad_id, cfg.seq_length
        self.eos_id = None if cfg.fixed_length else cfg.eos_id
        bias = torch.zeros(cfg.decoder["vocab_size"])
        bias[cfg.suppress_ids] = float("-inf")  # never outputs (pad, BOS, ...), in training and sampling alike
        self.register_buffer("logit_bias", bias, persistent=False)
        self.prior = "model"  # "standard": decode N(0, I) codes whatever the model's prior (the AE's lecture test)

    @property
    def vocab_size(self) -> int:
        return self.model.config.decoder["vocab_size"]

    @property
    def kind(self) -> str:
        return self.model.config.kind

    def code_of(self, batch: dict) -> torch.Tensor:
        """The code a sequence decodes from in teacher forcing: its fixed code (random-code) or its posterior mean."""
        if self.kind == "random-code":
            return fixed_codes(batch["labels"], batch["mask"], self.model.config.latent_size,
                               self.model.config.code_seed)
        return self.model.encode(batch["labels"], batch["mask"])[0]

    def forward(self, batch: dict, z: torch.Tensor | None = None, word_dropout: float = 0.0) -> torch.Tensor:
        z = self.code_of(batch) if z is None else z
        inputs, attn = shift_right(batch["labels"], batch["mask"], self.bos_id, self.pad_id)
        if word_dropout > 0:  # hide words (never [BOS]) so the decoder must rely on z (Bowman et al.)
            drop = torch.rand(inputs.shape, device=inputs.device) < word_dropout  # (B, T)
            drop[:, 0] = False
            inputs = inputs.masked_fill(drop, self.model.config.unk_id)
        return self.model.logits(inputs, z, attn) + self.logit_bias  # (B, T, V)

    # ------------------------------------------------------------------ the prior and sampling

    def draw_codes(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(n, self.model.config.latent_size, generator=rng, device=self.device,
                          dtype=self.model.from_code.weight.dtype)  # (n, L)
        if self.prior == "standard" or self.kind in ("random-code", "vae"):
            return eps
        if self.kind == "ae":
            return self.model.prior_mean + self.model.prior_log_std.exp() * eps
        return self.model.noise_to_code(eps)  # latent-gan

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None, return_logits: bool = False,
               gumbel: bool = False, global_rows=None) -> Samples:
        """Samples decoded from codes: batch["z"] (B, L) when given, else num_samples codes from the prior."""
        if batch is None or "z" not in batch:
            n = num_samples if num_samples is not None else batch["labels"].shape[0]
            batch = {"z": self.draw_codes(n, rng)}
        return super().sample(batch, batch["z"].shape[0], temperature, greedy, rng, return_logits, gumbel, global_rows)

    def start(self, batch, num_samples):
        z = batch["z"]
        return {"cache": GrowableCache(), "z": z}, None, z.shape[0], self.max_length

    def step(self, state, prev, pos, attn):
        logits, state["cache"] = self.model.logits(prev[:, None], state["z"], attn, pos[:, None], state["cache"])
        return logits[:, -1] + self.logit_bias  # (B, V)

    def prefill(self, state, tokens, mask, last_only=False):
        raise NotImplementedError("latent generators are not trained by the token-level GAN bridges; use --method "
                                  "latent-gan.")

    def select_rows(self, state, index):
        state["cache"].batch_select_indices(index)
        state["z"] = state["z"][index]
        return state

    def save_pretrained(self, path, **kw):
        self.model.save_pretrained(path, **kw)

    @torch.no_grad()
    def interpolate(self, a: dict, b: dict, steps: int) -> torch.Tensor:
        """Greedy decodings (steps, T) of codes evenly spaced from sentence a's code to b's (each a 1-row batch)."""
        za, zb = self.code_of(a), self.code_of(b)  # (1, L)
        w = torch.linspace(0, 1, steps, device=za.device)[:, None]  # (steps, 1)
        out = self.sample({"z": (1 - w) * za + w * zb}, greedy=True)
        return out.tokens.masked_fill(~out.mask, self.pad_id)

    # ------------------------------------------------------------------ likelihood

    def sequence_logprob(self, batch: dict, z: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        logp = F.log_softmax(self(batch, z).float() / temperature, -1)  # (B, T, V)
        tok = logp.gather(2, batch["labels"].masked_fill(~batch["mask"], 0)[..., None]).squeeze(2)  # (B, T)
        return torch.where(batch["mask"], tok, torch.zeros_like(tok)).sum(1)  # (B,)

    def log_marginal(self, batch: dict, k: int, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
        """The IWAE-k estimate of log p(x) per sequence (B,): a lower bound on it in expectation."""
        g = torch.Generator(device=self.device).manual_seed(seed)
        B, L = batch["labels"].shape[0], self.model.config.latent_size
        posterior = None
        if self.kind == "vae":
            mean, logvar = self.model.encode(batch["labels"], batch["mask"])
            posterior = torch.distributions.Normal(mean, (0.5 * logvar).exp())
            prior = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
        elif self.kind == "ae" and self.prior == "model":
            mean = self.model.encode(batch["labels"], batch["mask"])[0]
            std = self.model.prior_log_std.exp().expand_as(mean)
            posterior = torch.distributions.Normal(mean, self.model.config.ae_proposal_scale * std)
            prior = torch.distributions.Normal(self.model.prior_mean.expand_as(mean), std)
        weights = []
        for _ in range(k):
            if posterior is None:  # proposal = prior: log w = log p(x | z)
                z = self.draw_codes(B, g)
                weights.append(self.sequence_logprob(batch, z, temperature))
            else:
                z = posterior.loc + posterior.scale * torch.randn(B, L, generator=g, device=self.device,
                                                                  dtype=posterior.loc.dtype)
                w = self.sequence_logprob(batch, z, temperature) + (prior.log_prob(z) - posterior.log_prob(z)).sum(1)
                weights.append(w)
        return torch.logsumexp(torch.stack(weights), 0) - math.log(k)  # (B,)

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        """Each sequence's IWAE estimate of log p(x), spread evenly over its tokens (B, T): per-token sums and means
        (seqgan.scoring.metrics.teacher_forced_nll) are then the bound's, not the decoder's given one code."""
        lp = self.log_marginal(batch, self.model.config.iwae_samples, temperature)  # (B,)
        mask = batch["mask"]
        return mask * (lp / mask.sum(1).clamp(min=1))[:, None]

    @torch.no_grad()
    def diagnostics(self, loader, accelerator, max_reconstruct: int = 500) -> dict:
        """KL per token and active units (the VAE's collapse check), and reconstructions of the split's first
        `max_reconstruct` sequences (greedy from the posterior mean): token accuracy and BLEU-4 against the input."""
        from seqgan.scoring.bleu import corpus_bleu

        out = {"iwae_samples": self.model.config.iwae_samples,
               "nll_bound": "IWAE upper bound; proposal " + ("posterior" if self.kind in ("ae", "vae")
                                                             and self.prior == "model"
                                                             else "prior"), "latent_prior": self.prior}
        if self.kind == "random-code":
            return out
        means, kl, tokens, hyps, refs, right, total = [], 0.0, 0, [], [], 0, 0
        for batch in loader:
            mean, logvar = self.model.encode(batch["labels"], batch["mask"])
            means.append(accelerator.gather_for_metrics(mean))
            if self.kind == "vae":
                kl += accelerator.gather_for_metrics(gaussian_kl(mean, logvar).sum(1).double()).sum().item()
            tokens += accelerator.gather_for_metrics(batch["mask"].sum(1)).sum().item()
            if len(refs) < max_reconstruct:
                rec = self.sample({"z": mean}, greedy=True)
                for r, rm, y, m in zip(rec.tokens, rec.mask, batch["labels"], batch["mask"]):
                    ref, hyp = y[m].tolist(), r[rm].tolist()
                    right += sum(a == b for a, b in zip(hyp, ref))
                    total += len(ref)
                    hyps.append(" ".join(map(str, hyp)))
                    refs.append(" ".join(map(str, ref)))
        mu = torch.cat(means)  # (N, L)
        out["active_units"] = int((mu.var(0) > 0.01).sum())  # Burda et al.: Var_x E_q[z_d] > 0.01
        if self.kind == "vae":
            out["kl_per_token"] = kl / max(tokens, 1)
        out["reconstruction_token_accuracy"] = right / max(total, 1)
        out["reconstruction_bleu_4"] = corpus_bleu(hyps, [refs], tokenize="none")["score"] / 100
        out["reconstructed"] = len(refs)
        return out


# ----------------------------------------------------------------------------- training losses

def _token_nll_sum(logits: torch.Tensor, batch: dict) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1).float(), batch["labels"].masked_fill(~batch["mask"], -100).flatten(),
                           reduction="sum", ignore_index=-100)  # (B*T, V) vs (B*T,)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per dimension, in closed form: same shape as mean."""
    return 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar)


def random_code_loss(gen: LatentGenerator, batch: dict, ctx=None) -> torch.Tensor:
    return global_mean(_token_nll_sum(gen(batch), batch), batch["mask"].sum())


def ae_loss(gen: LatentGenerator, batch: dict, ctx=None) -> torch.Tensor:
    m = gen.model
    z = m.encode(batch["labels"], batch["mask"])[0]  # (B, L)
    with torch.no_grad():  # the sampling prior follows the codes: running mean and variance over recent batches
        d = m.config.prior_decay if m.steps.item() > 0 else 0.0
        var = (2 * m.prior_log_std).exp() + m.prior_mean ** 2  # E[z^2] so far
        m.prior_mean.mul_(d).add_((1 - d) * z.mean(0))
        second = var * d + (1 - d) * (z ** 2).mean(0)
        m.prior_log_std.copy_(0.5 * (second - m.prior_mean ** 2).clamp(min=1e-6).log())
        m.steps.add_(1)
    return global_mean(_token_nll_sum(gen(batch, z, m.config.word_dropout), batch), batch["mask"].sum())


def vae_loss(gen: LatentGenerator, batch: dict, ctx=None) -> torch.Tensor:
    m, cfg = gen.model, gen.model.config
    mean, logvar = m.encode(batch["labels"], batch["mask"])  # (B, L) each
    z = mean + (0.5 * logvar).exp() * torch.randn_like(mean)
    kl = gaussian_kl(mean, logvar)  # (B, L)
    # Free bits: a dimension's batch-mean KL below the floor costs nothing, so the encoder can use it freely.
    kl_term = kl.mean(0).clamp(min=cfg.free_bits).sum() * mean.shape[0]
    beta = min(1.0, (m.steps.item() + 1) / cfg.kl_anneal_steps) if cfg.kl_anneal_steps else 1.0
    with torch.no_grad():
        m.steps.add_(1)
    nll = _token_nll_sum(gen(batch, z, cfg.word_dropout), batch)
    return global_mean(nll + beta * kl_term, batch["mask"].sum())


LATENT_LOSSES = {"random-code": random_code_loss, "ae": ae_loss, "vae": vae_loss}


def latent_from_scratch(cfg: SeqGanLatentConfig) -> LatentGenerator:
    """A latent-variable generator from scratch (the task sizes `cfg`: tasks/text.py latent_config)."""
    return LatentGenerator(SeqGanLatentModel(cfg))
