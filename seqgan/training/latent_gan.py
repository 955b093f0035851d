"""ARAE's GAN in code space (Zhao et al. 2018): G maps N(0, I) noise to codes, a WGAN-GP critic tells them from the
codes a trained autoencoder gives real sentences, and the AE's decoder turns G's codes into text.

    accelerate launch scripts/train.py --task text --method ae
    accelerate launch scripts/train.py --task text --method latent-gan --init_from runs/text-ae

No discrete bridge is needed: everything adversarial happens on continuous codes. Each round takes --d_steps
critic steps (Wasserstein loss + --gp_weight times the gradient penalty on random interpolates, Gulrajani et al.)
and --g_steps G steps (-critic(G(noise))). By default the encoder and decoder stay frozen;
--latent_finetune_encoder also trains the encoder on reconstruction plus the critic's signal on real codes, as
ARAE does (the decoder then learns with it). Resumable like every loop (seqgan/training/loops.py: `Run.save`).
"""

from __future__ import annotations

import sys

import torch
from tqdm.auto import tqdm

from seqgan.models.latent import LatentGenerator, ae_loss
from seqgan.training.loops import RealBatches, Run, param_groups, window_mean
from seqgan.training.resume import load_state

# ARAE's WGAN-GP on a trained AE's codes, 5 critic steps per G step, Adam at 1e-4 (beta_1 = 0.5) as in WGAN-GP and
# ARAE: the text and oracle tasks' defaults for --method latent-gan.
ARAE_RECIPE = {"adv_steps": 1000, "d_steps": 5, "g_steps": 1, "g_learning_rate": 1e-4, "d_learning_rate": 1e-4,
               "gan_eval_every": 250, "gan_log_every": 50}


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """E[(||grad critic(x_hat)|| - 1)^2] at x_hat on random points between real and fake codes (B, L)."""
    a = torch.rand(real.shape[0], 1, generator=rng, device=real.device)  # (B, 1)
    x = (a * real + (1 - a) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)  # (B, L)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def critic_step(gen: LatentGenerator, batch: dict, opt, gp_weight: float, rng: torch.Generator,
                finetune_encoder: bool, enc_opt=None) -> dict:
    m = gen.model
    with torch.set_grad_enabled(finetune_encoder):
        real = m.encode(batch["labels"], batch["mask"])[0]  # (B, L)
    with torch.no_grad():
        fake = m.noise_to_code(torch.randn(real.shape, generator=rng, device=real.device))  # (B, L)
    w = m.critic(real.detach()).mean() - m.critic(fake).mean()  # the Wasserstein-1 estimate
    gp = gradient_penalty(m.critic, real.detach(), fake, rng)
    opt.zero_grad(set_to_none=True)
    (-w + gp_weight * gp).backward()
    opt.step()
    logs = {"latent_gan/wasserstein": w.item(), "latent_gan/gp": gp.item()}
    if finetune_encoder:  # ARAE: the encoder reconstructs and moves its codes toward what the critic finds fake-like
        enc_opt.zero_grad(set_to_none=True)
        loss = ae_loss(gen, batch) + m.critic(real).mean()  # `real` kept its graph to the encoder for this
        loss.backward()
        enc_opt.step()
        logs["latent_gan/reconstruction"] = loss.item()
    return logs


def g_step(gen: LatentGenerator, batch_size: int, opt, rng: torch.Generator) -> dict:
    m = gen.model
    fake = m.noise_to_code(torch.randn(batch_size, m.config.latent_size, generator=rng, device=gen.device))
    loss = -m.critic(fake).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"latent_gan/g_loss": loss.item()}


def train_latent_gan(run: Run, gen: LatentGenerator, finetune_encoder: bool) -> None:
    acc, args, gargs = run.accelerator, run.train_args, run.gan_args
    if acc.num_processes > 1:
        raise ValueError("--method latent-gan runs in one process (its models are small MLPs); launch without "
                         "--multi_gpu.")
    m = gen.model
    for p in m.parameters():
        p.requires_grad_(False)
    for part in (m.noise_to_code, m.critic) + ((m.encoder, m.to_code, m.decoder, m.from_code,
                                                m.enc_pos) if finetune_encoder else ()):
        for p in part.parameters():
            p.requires_grad_(True)
    # Adam with beta_1 = 0.5, as WGAN-GP and ARAE train their critics.
    g_opt = torch.optim.Adam(m.noise_to_code.parameters(), lr=gargs.g_learning_rate, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(m.critic.parameters(), lr=gargs.d_learning_rate, betas=(0.5, 0.9))
    enc_opt = None
    if finetune_encoder:
        ae_parts = torch.nn.ModuleList([m.encoder, m.to_code, m.decoder, m.from_code, m.enc_pos])
        enc_opt = torch.optim.AdamW(param_groups(ae_parts, args.weight_decay), lr=args.learning_rate)
    rng = torch.Generator(device=acc.device).manual_seed(args.seed * 1000)
    parts = {"models": {"gen": gen},
             "optimizers": {"g_opt": g_opt, "c_opt": c_opt, **({"enc_opt": enc_opt} if enc_opt else {})},
             "generators": {"noise": rng}}
    real = RealBatches(run.train_loader, run.sampler)
    done = 0
    if run.resuming("latent-gan"):
        real.seek(run.resume["real_epoch"], run.resume["real_index"])  # before the RNG is restored (loops.seek)
        done = load_state(run.resume_path, acc, parts)["round"]
    if done == 0:
        run.rec.new_phase()
        run.rec.evaluate(0, 0, gen, phase="latent-gan")
    if acc.is_main_process:
        print(f"latent-gan: G {sum(p.numel() for p in m.noise_to_code.parameters()):,} params, critic "
              f"{sum(p.numel() for p in m.critic.parameters()):,}; encoder "
              f"{'fine-tuned' if finetune_encoder else 'frozen'}",
              file=sys.stderr)
    m.train(finetune_encoder)  # frozen AE: no dropout in the codes the critic reads
    window, save_every = [], args.save_every or gargs.gan_eval_every
    bar = tqdm(total=gargs.adv_steps, initial=done, disable=not acc.is_main_process, desc="latent-gan")
    for r in range(done + 1, gargs.adv_steps + 1):
        logs = {}
        for _ in range(gargs.d_steps):
            logs.update(critic_step(gen, next(real), c_opt, gargs.gp_weight, rng, finetune_encoder, enc_opt))
        for _ in range(gargs.g_steps):
            logs.update(g_step(gen, args.batch_size, g_opt, rng))
        window.append(logs)
        bar.update(1)
        saving = r % save_every == 0 or r == gargs.adv_steps
        if r % gargs.gan_log_every == 0 or saving:
            run.rec.log({"step": r, "phase": "latent-gan", **window_mean(window)})
            window = []
        if r % gargs.gan_eval_every == 0 or r == gargs.adv_steps:
            m.eval()
            run.rec.evaluate(r, 0, gen, phase="latent-gan")
            m.train(finetune_encoder)
        if saving:
            run.save(parts, {"phase": "latent-gan", "phase_step": r, "round": r, "real_epoch": real.epoch,
                             "real_index": real.index})
    bar.close()
    m.eval()
