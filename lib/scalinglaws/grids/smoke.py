"""``smoke``: two tiny models on 8e4 tokens each; seconds. For the tests and a first try."""
from . import Grid, gpt, register, sweep

SMOKE = Grid(
    "smoke", "Two tiny models on 8e4 tokens each: seconds, for tests and a first try.",
    sweep(dict(tokens=81_920, batch_tokens=4096, lr=0.01, micro_batch_tokens=2048, warmup_tokens=8192,
               eval_points=5, eval_tokens=4096, final_eval_tokens=8192, ood_eval_tokens=4096,
               checkpoint_interval_s=0),
          model=[gpt(2, 8, 1, n_ctx=64), gpt(2, 16, 1, n_ctx=64)]),
    chapter="tests")

register(SMOKE)
