"""What kind of model a run trains, read from the names of the metrics it logs.

Half of the rules judge an accuracy against chance, 1/C, or a loss against log C: they need
the class count C, and when the log does not state it babysit reads it from the first loss.
That reading is only right for a classifier. A language model's, a summariser's or a speech
recogniser's loss is a per-token cross-entropy over a vocabulary of tens of thousands: its
first loss (2-11 nats, depending on how far pretraining took it) gives any C from 7 to 60,000
(a GPT-2 fine-tune read as 271 classes, Whisper as 2). Nothing in the loss tells them apart;
the metrics the run logs beside it do: nobody computes a word error rate or ROUGE for a
classifier, or an accuracy, F1 or AUC for a regression. The words are standard metric names
(Hugging Face `evaluate`, torchmetrics, Keras), matched as whole words of a name
(`eval_wer`, `val/rouge1`, `test_MAE`), so `career` or `tower` are not read as `wer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A sequence model (language, translation, summarisation, speech): per-token cross-entropy.
SEQUENCE_WORDS = frozenset({
    "wer", "cer", "bleu", "sacrebleu", "rouge", "rouge1", "rouge2", "rougel", "rougelsum",
    "meteor", "chrf", "ter", "perplexity", "ppl", "bertscore", "bpc", "bpb"})
# A regression: mean squared / absolute error, correlation with a continuous target.
REGRESSION_WORDS = frozenset({"mse", "mae", "rmse", "rmsle", "mape", "smape", "r2", "pearson",
                              "pearsonr", "spearman", "spearmanr"})
# Words that say it only together: Hugging Face's eval_gen_len (generate's output length; a
# GAN's gen_loss is no sequence model), Keras's mean_squared_error, val_mean_absolute_error.
PHRASES = (("sequence", frozenset({"gen", "len"})), ("regression", frozenset({"squared", "error"})),
           ("regression", frozenset({"absolute", "error"})))
# A classifier: what is counted right or wrong per example.
CLASSIFICATION_WORDS = frozenset({"acc", "accuracy", "f1", "precision", "recall", "auc", "auroc",
                                  "roc", "top1", "top5", "mcc", "matthews", "kappa"})
TASKS = ("sequence", "regression", "classification")  # the order in which evidence wins


def words(name: str) -> list[str]:
    """The lower-case words of a metric name, split both at camelCase humps and not:
    'val/RougeL_sum' gives val, rouge, l, sum and val, rougel, sum."""
    return re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()) + \
        re.findall(r"[a-z0-9]+", name.lower())


def task_of(names: Iterable[str]) -> tuple[str, str] | None:
    """(task, the name that says so) for the first of TASKS any name gives evidence of.

    A sequence model wins over a classifier (a summariser may also log a token accuracy), and
    a regression over a classifier (its "accuracy" would be a thresholded score).
    """
    found: dict[str, str] = {}
    for name in names:
        said = set(words(str(name)))
        for task, marks in (("sequence", SEQUENCE_WORDS), ("regression", REGRESSION_WORDS),
                            ("classification", CLASSIFICATION_WORDS)):
            if task not in found and said & marks:
                found[task] = str(name)
        for task, phrase in PHRASES:
            if task not in found and phrase <= said:
                found[task] = str(name)
    for task in TASKS:
        if task in found:
            return task, found[task]
    return None
