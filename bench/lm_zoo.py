"""A held-out zoo of language models: per-token losses that are no classifier's.

Run: python bench/lm_zoo.py --out /tmp/lmzoo [--seed 0], then
     python bench/score_labelled.py /tmp/lmzoo

Character-level language models (a GRU, and a one-layer causal transformer) trained with a
plain PyTorch loop on text drawn from a seeded word-level Markov chain (27 characters; the
chain's entropy is a floor no model passes), logged as bench/heldout_zoo.py logs its runs
(Hugging Face trainer_state.json, Lightning CSVLogger, TensorBoard, JSONL), with and without
a perplexity metric. A language model's first loss (log 27 = 3.3 from scratch) gives a class
count only for its own vocabulary, and its loss stays far above any classifier's "fitted"
mark at its entropy floor: healthy runs must raise no warning; broken learning rates must
still be named. Labels are written from how each run is built, before it is diagnosed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/
from bench.heldout_zoo import HIGH, LOW, Run, build, write

SEQ, WORDS, CHARS = 32, 12, 12_000


@dataclass(frozen=True)
class LmRun:
    """One labelled language-model run."""

    name: str
    fmt: str  # as heldout_zoo: hf, lightning, tb, jsonl
    arch: str = "gru"  # gru, transformer
    lr: float = 3e-3
    optimizer: str = "adam"
    epochs: int = 12
    perplexity: bool = False  # also log the validation perplexity (Lightning users often do)
    must_any: list[str] = field(default_factory=list)
    must_not: Any = field(default_factory=list)


RUNS = [
    LmRun("lm-gru-healthy-hf", "hf", must_not="warnings"),
    LmRun("lm-gru-healthy-lightning-ppl", "lightning", perplexity=True, must_not="warnings"),
    LmRun("lm-transformer-healthy-tb", "tb", arch="transformer", lr=1e-3, must_not="warnings"),
    LmRun("lm-transformer-healthy-jsonl", "jsonl", arch="transformer", lr=1e-3, must_not="warnings"),
    LmRun("lm-gru-lr-far-too-high-hf", "hf", optimizer="sgd", lr=300.0, epochs=6, must_any=HIGH,
          must_not=["underfitting", "overfitting"]),
    LmRun("lm-gru-lr-far-too-low-lightning", "lightning", optimizer="sgd", lr=1e-6, epochs=14,
          must_any=LOW, must_not=["underfitting", "overfitting"]),
]


def text(seed: int) -> tuple[np.ndarray, int]:
    """(character ids of a Markov-chain text, vocabulary size 27: a-z and space)."""
    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(2, 7)))
             for _ in range(WORDS)]
    trans = rng.dirichlet(np.full(WORDS, 0.3), WORDS)  # peaked: a learnable chain
    out, w = [], 0
    while len(out) < CHARS:
        w = rng.choice(WORDS, p=trans[w])
        out.extend(ord(c) - 97 for c in words[w])
        out.append(26)
    return np.array(out[:CHARS]), 27


def model(arch: str, vocab: int, torch: Any) -> Any:
    """A GRU, or a one-layer causal transformer, over character embeddings."""
    nn = torch.nn

    class Lm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(vocab, 48)
            if arch == "gru":
                self.body = nn.GRU(48, 96, batch_first=True)
            else:
                self.pos = nn.Parameter(torch.zeros(SEQ, 48))
                self.body = nn.TransformerEncoderLayer(48, 4, 96, dropout=0.0, batch_first=True)
            self.out = nn.Linear(96 if arch == "gru" else 48, vocab)

        def forward(self, x: Any) -> Any:
            h = self.emb(x)
            if arch == "gru":
                h, _ = self.body(h)
            else:
                mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
                h = self.body(h + self.pos[:x.shape[1]], src_mask=mask, is_causal=True)
            return self.out(h)

    return Lm()


def train(run: LmRun, seed: int) -> tuple[list[dict], list[dict]]:
    """(per-step records, per-epoch records) as bench/heldout_zoo.py's train returns them."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # small matrices: threads cost more than they give (2 cores)
    ids, vocab = text(seed)
    windows = torch.tensor(np.lib.stride_tricks.sliding_window_view(ids, SEQ + 1)[::SEQ // 2].copy())
    split = int(0.8 * len(windows))
    train_w, val_w = windows[:split], windows[split:]
    net = model(run.arch, vocab, torch)
    opt_cls = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[run.optimizer]
    opt = opt_cls(net.parameters(), lr=run.lr)

    def loss_of(batch: Any) -> Any:
        logits = net(batch[:, :-1])
        return torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))

    steps, epochs, step = [], [], 0
    for epoch in range(run.epochs):
        net.train()
        order = torch.randperm(len(train_w))
        for i in range(0, len(order), 32):
            loss = loss_of(train_w[order[i:i + 32]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps.append({"step": step, "epoch": epoch + min(1.0, (i + 32) / len(order)),
                          "loss": float(loss.detach()), "lr": run.lr})
            step += 1
        net.eval()
        with torch.no_grad():
            train_loss, val_loss = float(loss_of(train_w)), float(loss_of(val_w))
        epochs.append({"step": step - 1, "epoch": epoch, "loss": train_loss, "val_loss": val_loss})
    return steps, epochs


def log_run(lm: LmRun, seed: int, out: Path) -> tuple[str, dict]:
    """Train one language model, log it as heldout_zoo logs its runs; (its key, its label)."""
    steps, epochs = train(lm, seed)
    key = write(Run(lm.name, "lm", lm.fmt, perplexity=lm.perplexity), steps, epochs, out, [])
    return key, {"must": [], "must_any": lm.must_any, "must_not": lm.must_not}


def main() -> None:
    """Train and log every run, then write labels.json."""
    build(__doc__.splitlines()[0], Path("/tmp/lmzoo"), RUNS, log_run)


if __name__ == "__main__":
    main()
