"""Published values from Kaplan et al. (2020), each with where it is printed.

These are *reference values*: the book shows them beside our own fits, labelled, and never uses
them to draw or adjust a result. Scale constants (N_c, D_c, C_c, B_*) depend on the GPT-2
tokenizer and WebText2, so only exponents and shapes are comparable with our runs.
"""
from __future__ import annotations

from dataclasses import dataclass

# Every published number the library or the book uses is defined here once and read through
# ``published(symbol)``; nothing else types these values (tests check the library's sources).

CITATION = ("Jared Kaplan, Sam McCandlish, Tom Henighan, Tom B. Brown, Benjamin Chess, Rewon Child, "
            "Scott Gray, Alec Radford, Jeffrey Wu, Dario Amodei. Scaling Laws for Neural Language Models. "
            "arXiv:2001.08361, 2020.")


@dataclass(frozen=True)
class Published:
    symbol: str
    value: float
    where: str
    meaning: str

    @property
    def short(self) -> str:
        """The value as prose writes it: ``2.3e10``, ``1.5e9``, ``768``, ``0.076``."""
        text = f"{self.value:.3g}"
        return text.replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


PUBLISHED = {p.symbol: p for p in [
    Published("alpha_N", 0.076, "§1.2 Eq 1.1; Table 5", "exponent of L(N) = (N_c/N)^α_N, converged models"),
    Published("N_c", 8.8e13, "§1.2 Eq 1.1; Table 5", "scale of L(N), non-embedding parameters (GPT-2 BPE)"),
    Published("alpha_D", 0.095, "§1.2 Eq 1.2; Table 5", "exponent of L(D), early-stopped"),
    Published("D_c", 5.4e13, "§1.2 Eq 1.2; Table 5", "scale of L(D), tokens"),
    Published("alpha_C", 0.057, "§1.2 Eq 1.3", "exponent of L(C), fixed batch"),
    Published("alpha_C_min", 0.050, "§1.2 Eq 1.3; Table 5", "exponent of L(C_min), compute-efficient"),
    Published("alpha_B", 0.21, "§1.2 Eq 1.4; Table 5", "exponent of B_crit(L) = B_*/L^(1/α_B)"),
    Published("B_star", 2.0e8, "§1.2 Eq 1.4", "scale of B_crit, tokens"),
    Published("alpha_N_LND", 0.076, "§4.1 Table 2", "α_N of the joint L(N, D) fit (Eq 1.5)"),
    Published("alpha_D_LND", 0.103, "§4.1 Table 2", "α_D of the joint L(N, D) fit (Eq 1.5)"),
    Published("N_c_LND", 6.4e13, "§4.1 Table 2", "N_c of the joint L(N, D) fit, non-embedding parameters"),
    Published("D_c_LND", 1.8e13, "§4.1 Table 2", "D_c of the joint L(N, D) fit, tokens"),
    Published("LND_subset_factor", 1024, "§4.2", "WebText2 was cut by up to this factor for the smallest L(N, D) datasets"),
    Published("data_rule_k", 5e3, "§4.2 Eq 4.4", "k of D ≳ k·N^e: data that keeps overfitting under the seed noise"),
    Published("data_rule_exponent", 0.74, "§4.2 Eq 4.4", "e of D ≳ k·N^e (= α_N/α_D of Table 2)"),
    Published("alpha_S", 0.76, "§1.2 Eq 1.6; Table 3", "exponent of the S_min term of L(N, S)"),
    Published("S_c", 2.1e3, "§1.2 Eq 1.6; Table 3", "scale of the S_min term, steps"),
    Published("lr_intercept", 0.003239, "App D.6 Eq D.1", "intercept a of the peak LR rule LR(N) ≈ a − b ln N"),
    Published("lr_slope", 0.0001395, "App D.6 Eq D.1", "slope b of the peak LR rule LR(N) ≈ a − b ln N"),
    Published("n_vocab", 50257, "§2.3", "GPT-2 BPE vocabulary"),
    Published("n_ctx", 1024, "§2.3", "context length of most runs"),
    Published("batch_tokens", 2 ** 19, "§2.3", "batch of 512 sequences × 1024 tokens"),
    Published("seed_noise", 0.02, "§4.2", "seed-to-seed variation of the loss, nats"),
    Published("steps", 2.5e5, "§2.2", "optimizer steps of every run (one cosine schedule of this length)"),
    Published("warmup_steps", 3000, "§2.2", "linear warmup, steps"),
    Published("dropout_LND", 0.1, "§4.2", "dropout of the L(N, D) runs"),
    Published("webtext2_tokens", 2.29e10, "§2.3", "WebText2 tokens (GPT-2 BPE)"),
    Published("chars_per_token", 4.3, "§6.3, footnote 7", "characters per GPT-2 token on WebText2"),
    Published("N_min", 768, "§3", "smallest model, non-embedding parameters"),
    Published("N_max", 1.5e9, "§3", "largest model, non-embedding parameters"),
]}


def published(symbol: str) -> Published:
    try:
        return PUBLISHED[symbol]
    except KeyError:
        raise KeyError(f"no published value {symbol!r}; known: {', '.join(PUBLISHED)}") from None


def compare(symbol: str, fit, quantity: str, x_name: str = "N") -> dict:
    """One row of a side-by-side table: our fitted exponent and the published one, labelled."""
    ref = published(symbol)
    return {"quantity": quantity, "ours": round(fit.alpha, 4),
            "ours 95% CI": f"[{fit.alpha_ci[0]:.4f}, {fit.alpha_ci[1]:.4f}]",
            "our range": f"{x_name} = {fit.x_min:.2g} … {fit.x_max:.2g} ({fit.decades:.1f} decades, {fit.n} runs)",
            "Kaplan et al. 2020": ref.value, "where": ref.where}
