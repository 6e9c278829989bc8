"""Printed output as a log: a file (any name) whose bytes are text with no JSON or CSV shape,
or a stream. Several runs printed to one file are read as FILE#1, FILE#2, ...

Lines are read in bounded pieces (a 100 MB line costs at most MAX_LINE_BYTES of memory and is
counted, not parsed); UTF-8 with undecodable bytes replaced, or UTF-16 when the file starts
with its byte-order mark (a PowerShell capture).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run
from babysit.readers.fields import FieldMap
from babysit.readers.inputs import LineSplitter, is_stdin, is_stream, open_log_bytes, tail_lines
from babysit.readers.jsonl import MAX_BLANK_RUN
from babysit.readers.printed import ReadSummary, epochs_go_back, records_of, run_starts
from babysit.readers.sniff import UTF16_BOMS, kind_of

MAX_LINE_BYTES = 1 << 20  # a progress bar redrawn 10,000 times in one line is ~1.5 MB: cut


def _chunks(raw: io.BufferedIOBase, size: int, partial: bool) -> Iterator[bytes]:
    """The bytes of an open log (a UTF-16 capture as UTF-8), `size` at a time, or with
    `partial` what has arrived up to that (read1: a pipe's lines as the script prints them)."""
    if raw.peek(2)[:2] in UTF16_BOMS:  # type: ignore[attr-defined]
        text = io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline="")
        while chunk := text.read(size // 2):
            yield chunk.encode("utf-8")
        return
    read = raw.read1 if partial else raw.read
    while chunk := read(size):
        yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes a megabyte at a time (gunzipped)."""
    with open_log_bytes(path) as raw:
        yield from _chunks(raw, 1 << 20, partial=False)  # type: ignore[arg-type]


def lines_of(path: Path, stats: ReadStats, first: int = 0, end: int | None = None) -> Iterator[str]:
    """The text lines of a file or stream, from line `first` up to (not including) `end`
    (lines over MAX_LINE_BYTES are counted in `stats` and not numbered). Read in chunks of
    what has arrived (read1): a pipe's lines come as the script prints them; each chunk's
    lines are decoded together (one decode a chunk, not one a line)."""
    with open_log_bytes(path) as raw:
        chunks = _chunks(raw, 1 << 16, partial=True)  # type: ignore[arg-type]
        splitter = LineSplitter(stats, MAX_LINE_BYTES)
        index = blank = 0
        for chunk in chain(chunks, [None]):
            pieces = splitter.feed(chunk) if chunk is not None else \
                ([splitter.pending] if splitter.pending else [])
            if not pieces:
                continue
            texts = b"\n".join(pieces).decode("utf-8", errors="replace").split("\n")
            start = max(0, first - index)
            stop = len(texts) if end is None else max(0, min(len(texts), end - index))
            for number, text in enumerate(texts[start:stop], index + start + 1):
                blank = blank + 1 if not text.strip() else 0
                if blank >= MAX_BLANK_RUN:
                    stats.blank_run_at = number
                    return
                stats.lines = number
                yield text
            index += len(texts)
            if end is not None and index >= end:
                return


def _echoed(lines: Iterator[str], echo: Callable[[str], None]) -> Iterator[str]:
    for text in lines:
        echo(text)
        yield text


def read_text(path: Path, stats: ReadStats, fields: FieldMap, span: tuple[int, int | None] = (0, None),
              source: str = "text", echo: Callable[[str], None] | None = None) -> Iterator[Record]:
    """The records of one run printed to a file or stream (lines `span`); `echo(line)` sees
    every line first (`watch -` passes the script's output through)."""
    summaries: list[ReadSummary] = []
    lines = lines_of(path, stats, *span)
    yield from records_of(lines if echo is None else _echoed(lines, echo), fields, summaries, source)
    summary = summaries[0]
    stats.records += summary.records
    stats.described = summary.sentence()
    if not summary.steps and not summary.epochs:
        raise BabysitError(f"{path} holds no training metric babysit reads as printed output "
                           "(expected lines such as `Epoch 3/10 ... loss: 0.41 - val_loss: 0.52` "
                           "or `epoch 3 step 120 loss 0.41`; see docs/log-format.md)")


def follow_text(path: Path, stats: ReadStats, fields: FieldMap, poll: float) -> Iterator[Record]:
    """Records as a script prints more lines to `path`, until interrupted; a quiet poll
    releases the record held back for merging (the script has paused or ended). A file
    replaced by a new one (the script run again) is followed from its start."""
    replaced = [True]

    def lines() -> Iterator[str | None]:  # None: a quiet poll
        tail = tail_lines(path, stats, poll, MAX_LINE_BYTES)
        while True:
            try:
                line = next(tail)
            except StopIteration as stop:
                replaced[0] = bool(stop.value)
                return
            yield None if line is None else line.decode("utf-8", errors="replace")
    while replaced[0]:
        summaries: list[ReadSummary] = []
        for record in records_of(lines(), fields, summaries):
            stats.records += 1
            stats.described = summaries[0].sentence()
            yield record


SNIFF_STREAM = 4096


def stream_is_text() -> bool:
    """Whether standard input starts like printed output rather than JSON lines: peeked,
    not consumed. A gzip stream is JSONL's (compressed printed output is not read)."""
    fh = sys.stdin.buffer
    if not hasattr(fh, "peek"):
        return False
    head = fh.peek(SNIFF_STREAM)[:SNIFF_STREAM].lstrip()
    if head[:2] == b"\x1f\x8b" or not head:
        return False
    return not (head.startswith(b"{") and head[1:].lstrip()[:1] in (b'"', b"}", b""))


def open_stream(path: Path, fields: FieldMap) -> list[Run] | None:
    """Standard input holding printed output as one run; None for JSON lines or a pipe."""
    if not is_stdin(path) or not stream_is_text():
        return None
    return [Run("-", "-", "text", lambda stats, _: read_text(path, stats, fields))]


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """Printed output in a file whose bytes are text, not JSON or CSV; else None."""
    if path.is_dir() or is_stream(path):
        return None
    kind = kind_of(path)
    if kind == "binary":
        raise BabysitError(f"{path} is a binary file, not a log babysit reads (JSONL, CSV, "
                           "printed output, notebooks, TensorBoard, MLflow: docs/log-format.md)")
    if kind != "text":
        return None
    starts = run_starts(lambda: lines_of(path, ReadStats())) if epochs_go_back(_file_chunks(path)) else [0]

    def follow(stats: ReadStats, poll: float) -> Iterator[Record]:
        return follow_text(path, stats, fields, poll)
    if len(starts) < 2:
        return [Run(path.name, path.name, "text", lambda stats, _: read_text(path, stats, fields),
                    follow=follow)]
    spans = list(zip(starts, [*starts[1:], None], strict=True))
    return [Run(f"{path.name}#{i}", f"{path.name}#{i}", "text",
                lambda stats, _, span=span: read_text(path, stats, fields, span))
            for i, span in enumerate(spans, 1)]
