"""Means over the processes of a launch: the one reduction every loss of the library shares.

    loss = global_mean(total, mask.sum())   # sum over this process's tokens / tokens of the whole global batch

Token means are global: a run on N processes, whose shares hold different numbers of tokens, then follows the
gradient of the same loss as a run on one (tests/test_reliability.py runs both).
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def global_mean(total: torch.Tensor, count: torch.Tensor | int) -> torch.Tensor:
    """total / (count summed over processes), scaled by the number of processes because DDP averages the
    processes' gradients: the averaged gradient is then exactly that of sum(all totals) / sum(all counts)."""
    count = torch.as_tensor(count, device=total.device).detach().to(total.dtype)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        count = count.clone()
        dist.all_reduce(count)
        return total * dist.get_world_size() / count.clamp(min=1)
    return total / count.clamp(min=1)
