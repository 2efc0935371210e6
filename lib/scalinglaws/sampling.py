"""Which token windows a step reads: training samplers and fixed evaluation windows.

A window is ``n_ctx + 1`` consecutive tokens (the inputs plus the shifted targets).

* ``EpochWindows`` (the default): the training tokens are cut into non-overlapping windows
  (window i starts at i·n_ctx, so every token is a target exactly once per epoch), and each
  epoch reads all of them in the order of a permutation seeded by (seed, epoch). Its whole state
  is one integer, the number of windows read so far, so a resumed run continues mid-epoch exactly.
* ``RandomWindows``: windows at uniformly random offsets, drawn with replacement (how the first
  reference grid was trained; a 5e6-token run then reads only about half of the corpus positions
  and repeats about 29% of what it reads).
"""
from __future__ import annotations

import numpy as np
import torch


def stack_windows(tokens: np.ndarray, starts, length: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([tokens[s:s + length] for s in starts]).astype(np.int64))


class EpochWindows:
    def __init__(self, tokens: np.ndarray, n_ctx: int, seed: int):
        self.tokens, self.n_ctx, self.seed = tokens, n_ctx, seed
        self.length = n_ctx + 1
        self.n_windows = (len(tokens) - 1) // n_ctx
        if self.n_windows < 1:
            raise ValueError(f"{len(tokens)} training tokens hold no window of {self.length} tokens")
        self.position = 0
        self._order: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        """The window indices of ``epoch`` in reading order (cached for the current epoch)."""
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n_windows))
        return self._order[1]

    def indices(self, count: int) -> np.ndarray:
        """The next ``count`` window indices (crossing into the next epoch when one ends)."""
        out = []
        while count:
            epoch, offset = divmod(self.position, self.n_windows)
            take = min(count, self.n_windows - offset)
            out.append(self.order(epoch)[offset:offset + take])
            self.position += take
            count -= take
        return np.concatenate(out)

    def next(self, count: int) -> torch.Tensor:
        return stack_windows(self.tokens, self.indices(count) * self.n_ctx, self.length)

    @property
    def epochs(self) -> float:
        """Epochs read so far (fractional)."""
        return self.position / self.n_windows

    def state_dict(self) -> dict:
        return {"position": int(self.position)}

    def load_state_dict(self, state: dict) -> None:
        self.position = int(state["position"])


class RandomWindows:
    def __init__(self, tokens: np.ndarray, n_ctx: int, seed: int):
        self.tokens, self.length = tokens, n_ctx + 1
        if len(tokens) <= self.length:
            raise ValueError(f"{len(tokens)} training tokens hold no window of {self.length} tokens")
        self.n_windows = (len(tokens) - 1) // n_ctx
        self.generator = torch.Generator().manual_seed(seed)
        self.position = 0

    def next(self, count: int) -> torch.Tensor:
        starts = torch.randint(0, len(self.tokens) - self.length, (count,), generator=self.generator).numpy()
        self.position += count
        return stack_windows(self.tokens, starts, self.length)

    @property
    def epochs(self) -> float:
        """Tokens read over tokens available (windows are drawn with replacement: not distinct coverage)."""
        return self.position / self.n_windows

    def state_dict(self) -> dict:
        return {"position": int(self.position), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.position = int(state["position"])
        self.generator.set_state(state["generator"])


def make_sampler(kind: str, tokens: np.ndarray, n_ctx: int, seed: int):
    """``kind`` is ``TrainConfig.sampling``. ``RandomWindows`` keeps the seed offset the first grids used."""
    if kind == "epochs":
        return EpochWindows(tokens, n_ctx, seed)
    if kind == "random":
        return RandomWindows(tokens, n_ctx, seed + 1)
    raise ValueError(f"unknown sampling {kind!r}")


def fixed_windows(tokens: np.ndarray, n_tokens: int, length: int) -> torch.Tensor:
    """Evenly spaced, non-random windows covering about ``n_tokens`` of a held-out split."""
    n = max(1, min(n_tokens // (length - 1), (len(tokens) - 1) // length))
    starts = np.linspace(0, len(tokens) - length, n).astype(np.int64)
    return stack_windows(tokens, starts, length)
