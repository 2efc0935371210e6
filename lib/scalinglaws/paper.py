"""Published values from Kaplan et al. (2020), each with where it is printed.

These are *reference values*: the book shows them beside our own fits, labelled, and never uses
them to draw or adjust a result. Scale constants (N_c, D_c, C_c, B_*) depend on the GPT-2
tokenizer and WebText2, so only exponents and shapes are comparable with our runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    Published("alpha_N_LNS", 0.077, "§5.2 Eq 5.6; Table 3", "α_N of the L(N, S) fit (Eq 1.6)"),
    Published("N_c_LNS", 6.5e13, "§5.2 Eq 5.6; Table 3", "N_c of the L(N, S) fit, non-embedding parameters"),
    Published("C_c", 1.6e7, "§1.2 Eq 1.3; Table 5", "scale of L(C) at fixed batch, PF-days"),
    Published("C_c_min", 3.1e8, "§1.2 Eq 1.3; Table 5", "scale of L(C_min), PF-days"),
    Published("N_opt_coef", 1.3e9, "§6.1 Eq 6.1; Table 6; Fig 14", "N_opt = k·C_min^a, parameters (C_min in PF-days)"),
    Published("N_opt_exponent", 0.73, "§1.2 Eq 1.7; Table 6; Fig 14", "a of N_opt ∝ C_min^a"),
    Published("N_opt_coef_unadjusted", 1.6e9, "Fig 14 (legend)", "N_opt = k·C^a at the fixed batch, before the C_min adjustment"),
    Published("N_opt_exponent_unadjusted", 0.88, "Fig 14 (legend)", "a of N_opt ∝ C^a at the fixed batch"),
    Published("B_opt_exponent", 0.24, "§6.1; Table 6", "B ∝ C_min^0.24"),
    Published("S_min_coef", 5.4e3, "§6.1 Eq 6.2; Table 6; Fig 14", "S_min = k·C_min^b, steps"),
    Published("S_min_exponent", 0.03, "§1.2 Eq 1.7; Table 6; Fig 14", "b of S_min ∝ C_min^b"),
    Published("D_opt_exponent", 0.27, "§6.1; Table 6", "D ∝ C_min^0.27 (one epoch)"),
    Published("data_growth_coef", 4e10, "§6.3 Eq 6.7", "D(C_min) = k·C_min^e, tokens, as printed"),
    Published("data_growth_exponent", 0.26, "§6.3 Eq 6.7", "e of D(C_min), as printed"),
    Published("lump_pf_days", 1e-5, "§6.1, Fig 13", "compute where the frontier has a lump as 1-layer models give way to 2-layer ones, PF-days"),
    Published("C_star", 1e4, "§6.3 Eq 6.8", "where L(C_min) and L(D(C_min)) cross, PF-days (order of magnitude)"),
    Published("N_star", 1e12, "§6.3 Eq 6.8", "model size at the crossing, parameters (order of magnitude)"),
    Published("D_star", 1e12, "§6.3 Eq 6.8", "tokens at the crossing (order of magnitude)"),
    Published("L_star", 1.7, "§6.3 Eq 6.8", "loss at the crossing, nats per token"),
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


# Other papers' numbers that the chapters set beside ours, each with the paper and where it prints them.
RELATED = {p.symbol: p for p in [
    Published("porian_a_kaplan", 0.835, "Porian et al. 2024, Table 1 (RefinedWeb)",
              "a reproducing Kaplan: non-embedding N, 6N FLOPs, long warmup, long cosine"),
    Published("porian_a_head", 0.706, "Porian et al. 2024, Table 1 (RefinedWeb)", "a after counting the head FLOPs"),
    Published("porian_a_warmup", 0.602, "Porian et al. 2024, Table 1 (RefinedWeb)", "a after a short warmup as well"),
    Published("porian_a_cosine", 0.571, "Porian et al. 2024, Table 1 (RefinedWeb)",
              "a after a cosine matched to each run as well"),
    Published("porian_a_tuned", 0.497, "Porian et al. 2024, Table 1 (RefinedWeb)",
              "a after tuning LR, batch and β2 as well"),
    Published("pearce_song_a_chinchilla", 0.74, "Pearce & Song 2024, §4 (simulation)",
              "a on non-embedding counting over Kaplan's range, Chinchilla's coefficients"),
    Published("pearce_song_a_epoch", 0.78, "Pearce & Song 2024, §4 (simulation)",
              "a on non-embedding counting over Kaplan's range, Epoch AI's coefficients"),
    Published("chinchilla_a_envelope", 0.50, "Hoffmann et al. 2022, Table 2 (Approach 1)", "a from training-curve envelopes"),
    Published("chinchilla_a_isoflop", 0.49, "Hoffmann et al. 2022, Table 2 (Approach 2)", "a from IsoFLOP profiles"),
    Published("muennighoff_free_epochs", 4, "Muennighoff et al. 2023, abstract and §5",
              "epochs of repeated data that change the loss negligibly against unique data, at fixed compute"),
    Published("muennighoff_R_star", 15.4, "Muennighoff et al. 2023, §3.1 (fitted R*_D)",
              "repetitions after which a repeated token's value has decayed by 1/e (effective data D')"),
]}


# the related values that are exponents a of N_opt ∝ C^a, in the order a table sets them beside ours
A_EXPONENTS = ("porian_a_kaplan", "porian_a_head", "porian_a_warmup", "porian_a_cosine", "porian_a_tuned",
               "pearce_song_a_chinchilla", "pearce_song_a_epoch", "chinchilla_a_envelope", "chinchilla_a_isoflop")


def related(symbol: str) -> Published:
    try:
        return RELATED[symbol]
    except KeyError:
        raise KeyError(f"no related value {symbol!r}; known: {', '.join(RELATED)}") from None


def intersection() -> dict:
    """§6.3 / Fig 15 from the published constants, never typed: where L(C_min) (Eq 1.3, Table 5) meets L(D)
    (Eq 1.2) along the data compute-efficient training reads, D = 2·C_min/(6·N(C_min)) with N(C_min) from
    Table 6 (Eq 6.7's definition). ``routes`` gives the crossing two other ways: Eq 6.7's rounded
    D(C_min) = 4e10·C_min^0.26 as printed, and the frontier Appendix B derives from L(N, S) and B_crit(L)
    (Eqs B.5–B.10); how far they move C* is the paper's "order of magnitude" caveat made concrete."""
    from .frontier import PF_DAY, data_of_compute, efficient_law
    from .frontier import intersection as cross
    v = lambda s: published(s).value   # noqa: E731
    L_C, L_D = (v("C_c_min"), v("alpha_C_min")), (v("D_c"), v("alpha_D"))
    N_of_C = (v("N_opt_coef"), v("N_opt_exponent"))
    main = cross(L_C, L_D, data_of_compute(*N_of_C), N_of_C)
    printed = cross(L_C, L_D, (v("data_growth_coef"), v("data_growth_exponent")), N_of_C)
    law = efficient_law(v("alpha_N_LNS"), v("alpha_S"), v("N_c_LNS"), v("S_c"), v("alpha_B"), v("B_star"))
    # App B's L(C_min) and N(C_min) are power laws in C_min: their constants, read at 1 and 1e4 PF-days
    a_n = float(np.log(law["N"](1e4 * PF_DAY) / law["N"](PF_DAY)) / np.log(1e4))
    n_e = float(law["N"](PF_DAY))
    c_c_b = float(law["L"](PF_DAY)) ** (1 / law["alpha_C_min"])
    app_b = cross((c_c_b, law["alpha_C_min"]), L_D, data_of_compute(n_e, a_n), (n_e, a_n))
    paper = {s: published(s).value for s in ("C_star", "N_star", "D_star", "L_star")}
    return {**{k: main[k] for k in ("C_star_pf_days", "N_star", "D_star", "L_star")},
            "method": "L(C_min) of Eq 1.3 (Table 5) = L(D) of Eq 1.2 at D = 2 C_min / (6 N(C_min)), N(C_min) of Table 6",
            "paper_eq_6_8": paper,
            "routes": {"eq_6_7_as_printed": printed, "appendix_b_from_L_N_S": {**app_b, "alpha_C_min": law["alpha_C_min"]}}}


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
