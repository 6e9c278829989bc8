"""What a reader skipped or guessed, as one sentence each (shown under every diagnosis)."""

from __future__ import annotations

from babysit.readers.common import ReadStats
from babysit.readers.fields import map_for
from babysit.readers.jsonl import MAX_BLANK_RUN, MAX_LINE_BYTES


def read_notes(stats: ReadStats, loss_read: bool = True) -> list[str]:
    """What the reader skipped or guessed, one sentence each (`loss_read`: whether a training
    loss was read, so that a run judged without one says which name might be it)."""
    notes = [stats.described] if stats.described else []
    if stats.malformed:
        lines = ", ".join(str(n) for n in stats.malformed_lines)
        more = ", ..." if stats.malformed > len(stats.malformed_lines) else ""
        notes.append(f"skipped {stats.malformed} malformed line(s): {lines}{more}")
    if stats.long_lines:
        notes.append(f"{stats.long_lines} of those line(s) exceeded {MAX_LINE_BYTES >> 20} MiB "
                     "and were skipped unread")
    if stats.bad_values:
        more = ", ..." if stats.bad_values > len(stats.bad_value_examples) else ""
        notes.append(f"ignored {stats.bad_values} metric value(s) that are not numbers: "
                     f"{', '.join(stats.bad_value_examples)}{more}")
    if stats.blank_run_at:
        notes.append(f"stopped reading at line {stats.blank_run_at:,}, after {MAX_BLANK_RUN:,} "
                     "blank lines in a row: the rest of the file was not read")
    if stats.corrupt:
        notes.append(f"stopped reading at {stats.corrupt}: the file is damaged, not just cut short")
    elif stats.truncated_last_line:
        notes.append(f"the last {stats.unit} is incomplete (a run still writing?) and was not read")
    if stats.run_header and not stats.summary and not stats.corrupt and not stats.blank_run_at:
        notes.append("the log ends without a summary record: the run was killed, crashed hard, "
                     "or is still running")
    if stats.unread:
        names = list(stats.unread)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        which = "it" if len(names) == 1 else "the first"
        lead = "no training loss was read; " if not loss_read else ""
        notes.append(f"{lead}not read: {', '.join(names[:3])}{more} (loss-like names no rule "
                     f"reads; --map {map_for(names[0])} reads {which})")
    if stats.non_monotonic_steps:
        notes.append(f"{stats.non_monotonic_steps} record(s) with a step not after the previous one")
    return notes
