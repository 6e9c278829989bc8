"""One line of printed training output as numbers with names: what `print` and `logging`
loops, Keras's progress bar, tqdm, Lightning's bar and the Hugging Face Trainer write.

A line is cleaned (ANSI colours, carriage-return and backspace redraws, timestamps, log
levels), then every number in it is named by the text just before it, back to the nearest
delimiter: `loss: 0.41`, `Train Loss=0.07`, `| val mae 0.08`, `'eval_loss': 0.69`, `Epoch [6/6]`.
A number glued to a unit (`2s`, `5ms/step`, `7.1it/s`) is no metric; `k/N` is a counter;
`45.3%` a percentage. A `|`-separated part that starts with a split word (`| train mae=0.08
loss=46.5 | val mae=...`) gives that split to the names in it that lack one. A line of column
names (`Epoch  TrLoss  ValLoss  TrAcc`) names the bare numbers of the rows under it.

Written by hand with `re`: the formats are ad hoc (no grammar a parsing library would take).
A log repeats a few line shapes a million times, so how a shape names its numbers (its plan) is
worked out once and cached; each line then costs a key and a few float() calls.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# Dates, clock times and tqdm's [elapsed<remaining]: numbers that are never metrics.
_TIMES = re.compile(r"\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]?)|(?<![\w.])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
                    r"(?:<(?:\d{1,2}:\d{2}(?::\d{2})?|\?))?")
_LEVELS = re.compile(r"\b(?:INFO|DEBUG|WARNING|WARN|ERROR|CRITICAL|root)\b")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:[-+]?(?:nan|inf(?:inity)?))(?![^\W\d_]))"
    r"(?P<tail>%|/\d+)?(?P<unit>[A-Za-z_]\w*)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")

SPLITS = {"train": "train", "training": "train", "tr": "train", "trn": "train", "val": "val",
          "valid": "val", "validation": "val", "eval": "val", "evaluation": "val", "dev": "val",
          "test": "test"}
EPOCH_WORDS = frozenset({"epoch", "ep"})  # not `epochs`: `Epochs=60` is a setting
STEP_WORDS = frozenset({"step", "steps", "iter", "iteration", "iters", "it", "batch", "global_step",
                        "global step", "update", "updates"})
_NAME_WORDS = 4  # a name is at most this many words (`Total Validation loss`)


@dataclass(slots=True)
class Line:
    """What one printed line says: markers of where the run is, and named numbers."""

    epoch: float | None = None
    epoch_total: int | None = None
    pos: int | None = None  # k of a k/N counter within the epoch (a batch, a progress bar)
    pos_total: int | None = None
    step: int | None = None  # a step counter the line names, with no total
    metrics: dict[str, float] = field(default_factory=dict)  # snake_case name -> value
    percent: frozenset[str] = frozenset()  # names whose value was written with %
    columns: list[str] | None = None  # a line of column names (a printed table's head)
    row: bool = False  # the bare numbers were a row of the table whose head came before


def clean(text: str) -> str:
    """The line as a terminal would finally show it: no colours, the last redraw only."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = text.rstrip("\r\n")
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    if "\b" in text:
        out: list[str] = []
        for ch in text:
            if ch == "\b":
                if out:
                    out.pop()
            else:
                out.append(ch)
        text = "".join(out)
    return text


@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """`Train Loss` -> train_loss, `TrLoss` -> tr_loss, `val/acc` stays val/acc."""
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[\s_]+", "_", name).strip("_-.").lower()


_NAME_AT_END = re.compile(
    r"([A-Za-z][\w./-]*(?:[ \t]+[A-Za-z][\w./-]*){0,%d})[\s:='\"\[(]*$" % (_NAME_WORDS - 1))  # noqa: UP031
_WRAPPER = re.compile(r"(?:tensor|array|np\.float\d*|float\d*)\(\s*$")  # loss: tensor(0.69, ...)
_DIGIT = re.compile(r"\d")
_LEVEL_HINT = re.compile(r"INFO|DEBUG|WARN|ERROR|CRITICAL|root")
_UNIT_REST = re.compile(r"^/[A-Za-z]+")
_TEST_START = re.compile(r"(?i)^\W*test(?:ing)?\b")  # `Test - Accuracy=49%`: not a training metric
_SPLIT_BEFORE = re.compile(r"\b(" + "|".join(SPLITS) + r")\s*[:\-]\s*$", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _label(label: str) -> tuple[str, bool, str | None]:
    """(name, whether a `|` ends the part before, the split it sets) for the text before a
    number; cached: a log repeats a handful of labels a million times."""
    reset = "|" in label
    if reset:
        label = label.rsplit("|", 1)[1]
    if "(" in label:
        label = _WRAPPER.sub("", label)
    if label.startswith("/"):  # the rest of a rate or duration: 812.5it/s train_loss: ...
        label = _UNIT_REST.sub("", label)
    match = _NAME_AT_END.search(label)
    if match is None:
        return "", reset, None
    before = _SPLIT_BEFORE.search(label[:match.start()])
    split = SPLITS[before[1].lower()] if before else None  # `Train: loss=... acc=...`
    words = match[1].split()
    if len(words) > 1 and words[0].lower() in SPLITS:  # `| train mae=0.08 loss=46.5`
        split = SPLITS[words[0].lower()]
    return snake(" ".join(words)), reset, split


def _name(label: str, state: dict[str, str | None]) -> str:
    """The name a label gives the number after it ('' if none): the words that end it, before
    only `:`, `=`, `[`, `(`, quotes or spaces. `state['split']` carries a split word across
    one |-separated part."""
    name, reset, split = _label(label)
    if reset:
        state["split"] = None
    if split is not None:
        state["split"] = split
    return name


_ZEROS = bytes.maketrans(b"123456789", b"000000000")  # bytes.translate: a table, no dict per char
Span = tuple[int, int, int, int]  # a number's start and end in the line, and its k/N total's (0, 0: none)
# (a table's head, the metrics as (start, end, name), the epoch's, the batch counter's and the
# step's spans, the names written with %, whether the line is a table row)
Plan = tuple[list[str] | None, tuple[tuple[int, int, str], ...], Span | None, Span | None, Span | None,
             frozenset[str], bool]
_PLANS: dict[tuple[bytes, tuple[str, ...] | None], Plan] = {}
_MAX_PLANS = 4096
# What a plan does with each number of a line (its role, by the words around it).
POS, BARE, EPOCH, STEP, METRIC = range(5)


def shape(text: str, columns: list[str] | None = None) -> tuple[str, Plan]:
    """The line cleaned, and its plan: how it names its numbers.

    Lines of one shape (`Epoch [3/10], Step [120/1000], Loss: 0.41`, the same with other
    digits) name their numbers alike: the plan is worked out once per shape (the line with
    every digit read as 0, and the table head above) and applied to each line's own numbers."""
    text = clean(text)
    key = (text.encode("utf-8", "surrogatepass").translate(_ZEROS), tuple(columns) if columns else None)
    found = _PLANS.get(key)
    if found is None:
        if len(_PLANS) >= _MAX_PLANS:  # a log of ever new shapes: start over, stay bounded
            _PLANS.clear()
        found = _PLANS[key] = _plan(text, columns)
    return text, found


def markers(text: str, plan: Plan) -> tuple[float | None, int | None, int | None, int | None, int | None]:
    """(epoch, its total, batch k, of N, step) of a line, as its plan places them; an epoch
    that is no finite number is None."""
    _, _, epoch, pos, step, _, _ = plan
    value = float(text[epoch[0]:epoch[1]]) if epoch else None
    return (value if value is not None and math.isfinite(value) else None,
            int(text[epoch[2]:epoch[3]]) if epoch and epoch[2] else None,
            _whole(text[pos[0]:pos[1]]) if pos else None,
            int(text[pos[2]:pos[3]]) if pos else None,
            _whole(text[step[0]:step[1]]) if step else None)


def _whole(number: str) -> int | None:
    """A counter as an int: `120` directly, `120.0` or `1.2e2` through float; None for `nan`
    or `inf` (no place in the run)."""
    try:
        return int(number)
    except ValueError:
        try:
            return int(float(number))
        except (ValueError, OverflowError):
            return None


def parse(text: str, columns: list[str] | None = None) -> Line:
    """The markers and named numbers of one printed line (`columns`: the table head above)."""
    text, plan = shape(text, columns)
    heads, metrics, _, _, _, percent, row = plan
    return Line(*markers(text, plan), {name: float(text[a:b]) for a, b, name in metrics}, percent, heads, row)


def _plan(text: str, columns: list[str] | None) -> Plan:
    """How a line of this shape names its numbers (see Plan); the table head `columns` names
    the bare numbers of a row under it."""
    if ":" in text or "-" in text or "/" in text:  # blanked, not cut: the numbers keep their places
        text = _TIMES.sub(lambda m: " " * len(m[0]), text)
    if not _DIGIT.search(text):
        text = _LEVELS.sub(" ", text)
        heads = _WORD.findall(text)
        if 3 <= len(heads) <= 16 and not re.search(r"[:=,]", text):
            return [snake(h) for h in heads], (), None, None, None, frozenset(), False
        return None, (), None, None, None, frozenset(), False
    state: dict[str, str | None] = {"split": "test" if _TEST_START.search(_LEVELS.sub(" ", text)) else None}
    steps: list[tuple] = []  # (start, end, role, name, start and end of a k/N total, written with %)
    counter = False  # a bare k/N seen: only the first is the batch counter
    prev = 0
    for match in _NUMBER.finditer(text):
        label = text[prev:match.start()]
        prev = match.end()
        if match["unit"]:  # 2s, 5ms/step, 7.1it/s, 1e: a duration or a rate
            continue
        start, end = match.span("num")
        tail = match["tail"] or ""
        t0, t1 = (match.start("tail") + 1, match.end("tail")) if tail.startswith("/") else (0, 0)
        name = _name(_LEVELS.sub(" ", label) if _LEVEL_HINT.search(label) else label, state)
        if not name:
            if t0 and not counter:  # 375/375 [=====]: the batch counter
                counter = True
                steps.append((start, end, POS, "", t0, t1, False))
            elif not t0:
                steps.append((start, end, BARE, "", 0, 0, tail == "%"))  # a table row's, maybe
            continue
        if name in EPOCH_WORDS or (name.endswith("_epoch") and name.split("_")[0] in EPOCH_WORDS):
            steps.append((start, end, EPOCH, "", t0, t1, False))
            continue
        if name in STEP_WORDS:
            steps.append((start, end, POS if t0 else STEP, "", t0, t1, False))
            continue
        split = state["split"]
        if split and not any(part in SPLITS for part in name.split("_")):
            name = f"{split}_{name}"
        steps.append((start, end, METRIC, name, 0, 0, tail == "%"))
    bare = [s for s in steps if s[2] == BARE]
    row = bool(columns) and bool(bare) and len(bare) == len(columns) and \
        not any(s[2] == METRIC for s in steps)  # `  1   1.0929   45.29%`: a row of the table above
    if row:
        roles = [EPOCH if c in EPOCH_WORDS else STEP if c in STEP_WORDS else METRIC for c in columns]
        named = iter(zip(roles, columns, strict=True))
        steps = [(*s[:2], *next(named), 0, 0, s[6]) if s[2] == BARE else s for s in steps]
    percent = frozenset(s[3] for s in steps if s[2] == METRIC and s[6])
    last = {s[2]: (s[0], s[1], s[4], s[5]) for s in steps}  # the last number of each role
    metrics = tuple((s[0], s[1], s[3]) for s in steps if s[2] == METRIC)
    return None, metrics, last.get(EPOCH), last.get(POS), last.get(STEP), percent, row
