"""Reference implementations of SeqGAN's rollouts, against which seqgan/training/rollout.py's `rollouts_cached` is
tested (tests/test_gan.py) and timed (scripts/benchmark.py rollout). Nothing in training imports them.

    from seqgan.training.reference_rollouts import REFERENCE_ROLLOUTS
    q = rollout_rewards(gen, reward_fn, batch, tokens, mask, None, 16, g, rollouts=REFERENCE_ROLLOUTS["per_prefix"])

`rollouts_per_prefix` is the fair competitor, what an RNN implementation does: each prefix length is
encoded once and all its N x B continuations run batched from that state (same chunking), but no
prefill is shared across prefix lengths. `rollouts_naive` is the reference: every prefix of every
rollout separately, re-encoding the whole sequence for each new token (mode="reencode"), or
re-encoding each prefix once and then using a cache for its completion (mode="prefix").
"""

from __future__ import annotations

import torch

from seqgan.models.generator import icdf_sample
from seqgan.training.rollout import mask_completions


@torch.no_grad()
def rollouts_per_prefix(gen, batch, tokens, mask, fixed_mask, u, max_rows: int | None = None):
    """The same completions the way an RNN implementation (SeqGAN's) carries its state: for each prefix length,
    encode the B prefixes once, then continue all N rollouts of all B sequences together from that state,
    one step per position, in chunks of at most max_rows rows. The strongest competitor that does not share
    the prefill across prefix lengths, batched and chunked exactly like `rollouts_cached`."""
    N, P, B, T = u.shape
    dev = tokens.device
    out_tok = torch.empty(N, P, B, T, dtype=torch.long, device=dev)
    out_mask = torch.empty(N, P, B, T, dtype=torch.bool, device=dev)
    n_chunk = N if max_rows is None else max(1, min(N, max_rows // max(B, 1)))
    for pre in range(P):
        L = pre + 1
        for n0 in range(0, N, n_chunk):
            nc = min(n_chunk, N - n0)
            state, _, _, _ = gen.start(batch, B)
            logits = gen.prefill(state, tokens[:, :L + 1], mask[:, :L + 1], last_only=True)  # (B, V) of y_L
            rows = torch.arange(B, device=dev).repeat(nc)  # (nc * B,): row j * B + b continues sequence b
            state = gen.select_rows(state, rows)
            comp = tokens[rows].clone()  # (nc * B, T)
            n_idx = torch.arange(n0, n0 + nc, device=dev).repeat_interleave(B)
            comp[:, L] = icdf_sample(logits[rows], u[n_idx, pre, rows, L])
            for p in range(L + 1, T):
                pos = torch.full((len(rows),), p, dtype=torch.long, device=dev)
                step_logits = gen.step(state, comp[:, p - 1], pos,
                                       torch.ones(len(rows), p + 1, dtype=torch.long, device=dev))
                comp[:, p] = icdf_sample(step_logits, u[n_idx, pre, rows, p])
            comp, cmask = mask_completions(gen, comp, fixed_mask, rows)
            out_tok[n0:n0 + nc, pre], out_mask[n0:n0 + nc, pre] = comp.view(nc, B, T), cmask.view(nc, B, T)
    return out_tok, out_mask


@torch.no_grad()
def rollouts_naive(gen, batch, tokens, mask, fixed_mask, u, mode: str = "reencode"):
    """The same completions, one (rollout, prefix) at a time (the reference implementation)."""
    if mode not in ("reencode", "prefix"):
        raise ValueError(f"mode must be 'reencode' or 'prefix', got {mode!r}")
    N, P, B, T = u.shape
    dev = tokens.device
    rows = torch.arange(B, device=dev)
    out_tok = torch.empty(N, P, B, T, dtype=torch.long, device=dev)
    out_mask = torch.empty(N, P, B, T, dtype=torch.bool, device=dev)
    for n in range(N):
        for pre in range(P):
            L = pre + 1
            comp = tokens.clone()
            state, _, _, _ = gen.start(batch, B)
            logits = gen.prefill(state, comp[:, :L + 1], mask[:, :L + 1], last_only=True)  # (B, V) of y_L
            comp[:, L] = icdf_sample(logits, u[n, pre, :, L])
            for p in range(L + 1, T):
                if mode == "reencode":  # the whole sequence again, from scratch, for every new token
                    state, _, _, _ = gen.start(batch, B)
                    logits = gen.prefill(state, comp[:, :p + 1], torch.ones_like(mask[:, :p + 1]), last_only=True)
                else:
                    pos = torch.full((B,), p, dtype=torch.long, device=dev)
                    logits = gen.step(state, comp[:, p - 1], pos, torch.ones(B, p + 1, dtype=torch.long, device=dev))
                comp[:, p] = icdf_sample(logits, u[n, pre, :, p])
            out_tok[n, pre], out_mask[n, pre] = mask_completions(gen, comp, fixed_mask, rows)
    return out_tok, out_mask


def _naive(mode: str):
    def rollouts(gen, batch, tokens, mask, fixed_mask, u, max_rows=None):  # one row at a time: no memory bound
        return rollouts_naive(gen, batch, tokens, mask, fixed_mask, u, mode=mode)
    return rollouts


# rollout_rewards(..., rollouts=REFERENCE_ROLLOUTS[name]): each draws the completions rollouts_cached draws.
REFERENCE_ROLLOUTS = {"per_prefix": rollouts_per_prefix, "reencode": _naive("reencode"), "prefix": _naive("prefix")}
