"""SeqGAN's Monte-Carlo search: the reward of prefix y_<=t is the mean D score of N completions of it.

    q = rollout_rewards(gen, reward_fn, batch, tokens, mask, fixed_mask, num_rollouts=16, rng=g)   # (B, T)

For a batch of B sampled sequences of length T, the completions of every prefix y_0..y_{L-1}
(L = 1..T-1) are drawn N times: N x (T-1) x B continuations. `rollouts_cached` does this with
one teacher-forced pass over the B sequences, whose key/value cache every continuation then
branches off (rows repeated with `gen.select_rows`, attention masked to the row's own prefix),
and all prefixes x rollouts advance together, one decoder step per position. Rows are ordered by
prefix length, so rows that are complete drop out of the batch (a view, not a copy), and each new
key/value entry overwrites a prefill entry no running row needs any more, so the cache stays T
entries wide. No prefix is ever re-encoded and the generator is never copied.

Its competitors and references (seqgan/training/reference_rollouts.py, which only the tests and
scripts/benchmark.py import) draw the same completions other ways: per prefix length from its own
state (what an RNN implementation does), or one (rollout, prefix) at a time.

Every token is drawn by inverse-CDF sampling from a uniform u[n, L-1, b, position] drawn up front
from the seeded generator, so a draw does not depend on how rows are batched: the cached and
naive versions produce identical completions (up to float rounding at a CDF boundary, which
float64 models rule out in the tests).
"""

from __future__ import annotations

from typing import Callable

import torch

from seqgan.models.generator import GlobalRows, icdf_sample


def draw_uniforms(num_rollouts: int, B: int, T: int, rng: torch.Generator | None, device,
                  global_rows: GlobalRows | None = None) -> torch.Tensor:
    """u[n, L-1, b, p]: the uniform for position p of rollout n of prefix length L of sequence b.
    global_rows: drawn for the whole global batch, this process's rows kept (see generator.row_rand)."""
    if global_rows is None:
        return torch.rand(num_rollouts, T - 1, B, T, generator=rng, device=device)
    ids, total = global_rows
    return torch.rand(num_rollouts, T - 1, total, T, generator=rng, device=device)[:, :, ids]


def mask_completions(gen, comp: torch.Tensor, fixed_mask: torch.Tensor | None, rows: torch.Tensor):
    """Mask of each completion (real tokens: the fixed mask, or up to the first EOS); pad after it."""
    cmask = gen.sequence_mask(comp, fixed_mask[rows] if fixed_mask is not None else None)
    return comp.masked_fill(~cmask, gen.pad_id), cmask


@torch.no_grad()
def rollouts_cached(gen, batch, tokens, mask, fixed_mask, u, max_rows: int | None = None):
    """Completions (N, T-1, B, T) and masks for every prefix x rollout, branching off one prefill pass."""
    N, P, B, T = u.shape
    dev = tokens.device
    n_chunk = N if max_rows is None else max(1, min(N, max_rows // max(P * B, 1)))
    out_tok, out_mask = [], []
    for n0 in range(0, N, n_chunk):
        nc = min(n_chunk, N - n0)
        state, _, _, _ = gen.start(batch, B)
        logits = gen.prefill(state, tokens, mask)  # (B, T, V): logits[:, L] is the distribution of y_L
        # Row r = (l, n, b), l-major: prefix length L = l + 1 ascending, so rows still running are a prefix.
        l_idx = torch.arange(P, device=dev).repeat_interleave(nc * B)  # (R,)
        n_idx = torch.arange(n0, n0 + nc, device=dev).repeat_interleave(B).repeat(P)  # (R,)
        b_idx = torch.arange(B, device=dev).repeat(P * nc)  # (R,)
        L = l_idx + 1
        comp = tokens[b_idx].clone()  # (R, T): prefix tokens, overwritten from position L on
        first_u = u[n0:n0 + nc, torch.arange(P), :, torch.arange(1, T)]  # (P, nc, B): u[n, l, b, l + 1]
        first = icdf_sample(logits[:, 1:].transpose(0, 1).reshape(P * B, -1),  # (P*B, V), row l*B + b
                            first_u.permute(0, 2, 1).reshape(P * B, nc))  # (P*B, nc)
        comp[torch.arange(len(L), device=dev), L] = first.view(P, B, nc).permute(0, 2, 1).reshape(-1)  # to row order
        state = gen.select_rows(state, b_idx)
        prefix_of = (torch.arange(T, device=dev)[None, :] <= L[:, None])  # (R, T): row's own prefill entries 0..L
        for k in range(1, T - 1):
            m = (T - 1 - k) * nc * B  # rows with L + k <= T - 1, i.e. L <= T - 1 - k
            if m < len(prefix_of):
                state = gen.select_rows(state, slice(0, m))  # a view: no copy of the cache
                prefix_of = prefix_of[:m]
            # Entry T - k of the prefill pass is no running row's prefix any more (L <= T - 1 - k), so the
            # new entry overwrites it: the cache stays T entries wide and is never copied or grown.
            state["cache"].write_slot(T - k)
            r = torch.arange(m, device=dev)
            pos = L[:m] + k
            attn = (prefix_of | (torch.arange(T, device=dev)[None, :] >= T - k)).long()  # (m, T): prefix + own k steps
            step_logits = gen.step(state, comp[r, pos - 1], pos, attn)  # (m, V)
            comp[r, pos] = icdf_sample(step_logits, u[n_idx[:m], l_idx[:m], b_idx[:m], pos])
        state["cache"].write_slot(None)
        comp, cmask = mask_completions(gen, comp, fixed_mask, b_idx)
        out_tok.append(comp.view(P, nc, B, T).transpose(0, 1))
        out_mask.append(cmask.view(P, nc, B, T).transpose(0, 1))
    return torch.cat(out_tok, 0), torch.cat(out_mask, 0)  # (N, T-1, B, T) each


@torch.no_grad()
def score_completions(reward_fn: Callable, comp: torch.Tensor, cmask: torch.Tensor,
                      batch_size: int = 4096) -> torch.Tensor:
    """reward_fn(tokens (R, T'), mask (R, T'), rows (R,)) over all (N, P, B, T) completions -> (N, P, B).

    Completions are scored in length buckets: sorted by length, each chunk cut to its longest member, so D
    reads no padding columns beyond it (sequences that end early, at [EOS], cost only their length).
    reward_fn must therefore accept widths T' <= T (cutting any per-position condition to T')."""
    N, P, B, T = comp.shape
    flat, fmask = comp.reshape(-1, T), cmask.reshape(-1, T)
    rows = torch.arange(B, device=comp.device).repeat(N * P)  # the batch row each completion continues
    lengths = fmask.sum(1)
    order = torch.argsort(lengths, stable=True)
    parts = []
    for i in range(0, len(flat), batch_size):
        idx = order[i:i + batch_size]
        width = max(int(lengths[idx].max()), 1)  # one sync per chunk, not per token
        parts.append(reward_fn(flat[idx, :width], fmask[idx, :width], rows[idx]))
    sorted_scores = torch.cat(parts)
    scores = torch.empty_like(sorted_scores)
    scores[order] = sorted_scores
    return scores.view(N, P, B)


@torch.no_grad()
def score_completions_shared(prefix_reward_fn: Callable, comp: torch.Tensor, cmask: torch.Tensor) -> torch.Tensor:
    """prefix_reward_fn(comp (R, T), cmask (R, T), prefix_len, rows (R,)) for each prefix length at once: the N x B
    completions of prefix length L share it, so a causal D encodes it once
    (SeqGanDiscriminator.score_continuations)."""
    N, P, B, T = comp.shape
    rows = torch.arange(B, device=comp.device).repeat(N)  # (N * B,): row n * B + b continues sequence b
    return torch.stack([prefix_reward_fn(comp[:, pre].reshape(-1, T), cmask[:, pre].reshape(-1, T), pre + 1,
                                         rows).view(N, B)
                        for pre in range(P)], 1)  # (N, P, B)


@torch.no_grad()
def rollout_rewards(gen, reward_fn: Callable, batch, tokens, mask, fixed_mask, num_rollouts: int,
                    rng: torch.Generator | None = None, rollouts: Callable = rollouts_cached,
                    max_rows: int | None = None, global_rows: GlobalRows | None = None,
                    prefix_reward_fn: Callable | None = None) -> torch.Tensor:
    """Q (B, T): Q[b, t] = mean over rollouts of the reward of completions of y_b[:t+1]; the last real
    token gets the reward of the sequence itself; 0 at padding. With `prefix_reward_fn` (a causal D) the
    completions are scored sharing each prefix's encoding (score_completions_shared), else one by one.
    Twelve parameters: the samples (tokens, mask, fixed_mask, batch), the two scorers, and the rollouts' count, random
    stream, global rows, memory bound and implementation (`rollouts`: rollouts_cached, or one of
    seqgan.training.reference_rollouts.REFERENCE_ROLLOUTS, which the tests and the benchmark compare it with)."""
    B, T = tokens.shape
    u = draw_uniforms(num_rollouts, B, T, rng, tokens.device, global_rows)
    comp, cmask = rollouts(gen, batch, tokens, mask, fixed_mask, u, max_rows)  # (N, T-1, B, T) each
    if prefix_reward_fn is not None:
        scores = score_completions_shared(prefix_reward_fn, comp, cmask)
    else:
        scores = score_completions(reward_fn, comp, cmask)
    prefix_q = scores.mean(0).T  # (P, B) -> (B, T-1)
    full = reward_fn(tokens, mask, torch.arange(B, device=tokens.device))  # (B,)
    q = torch.cat([prefix_q, torch.zeros_like(prefix_q[:, :1])], 1)  # (B, T)
    q[torch.arange(B, device=tokens.device), mask.long().sum(1) - 1] = full  # the last real token: D's score of y
    return q * mask
