"""Strings that came from a log, made safe to show: control characters made visible.

A layer name, a tag or a config value in a log file can hold terminal escape sequences
("\\x1b]0;title\\x07" sets the window title, "\\x1b[2J" clears the screen). Everything babysit
shows from a log goes through `visible` first, so such a name prints as `\\x1b]0;...` instead.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls, and lone surrogates (which cannot even be encoded to UTF-8)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """str(value) with every control character written as an escape (\\x1b, \\x07, \\n...)."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


MAX_DEPTH = 16  # nesting shown of a config; deeper parts become "..." (a log can nest 1000 deep)


def visible_all(value: Any, depth: int = 0) -> Any:
    """`value` with every string in it (dict keys included, nested) made visible; nesting
    past MAX_DEPTH is cut to "..."."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {visible(k) if isinstance(k, str) else k: visible_all(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [visible_all(v, depth + 1) for v in value]
    return value


# Words of a config key that mark its value as a secret (key, token, password, ...): a key is
# split into its words (api_key, apiKey, HF_TOKEN -> api key / api key / hf token).
SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "credential",
                "credentials", "auth", "authorization", "cookie", "session", "private"}
MASK = "*** (hidden)"


def looks_secret(key: str) -> bool:
    """Whether a config key names a secret (its value must not be shown)."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key)
    return any(w.lower() in SECRET_WORDS for w in words)


# A password inside a value: scheme://user:PASSWORD@host (a tracking URI, a dataset URL).
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s/:@]*:)[^\s/@]+@")


def mask_value(value: Any) -> Any:
    """A string with any URL's password replaced by ***; anything else as it is."""
    if isinstance(value, str) and "@" in value:
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value


def mask_secrets(value: Any) -> tuple[Any, list[str]]:
    """`value` with the values of secret-looking keys replaced (nested too), and any URL's
    password (by the value's own pattern, whatever its key), and what was hidden."""
    hidden: list[str] = []

    def walk(v: Any, depth: int) -> Any:
        if isinstance(v, (dict, list)) and depth >= MAX_DEPTH:
            return "..."
        if isinstance(v, dict):
            out = {}
            for k, item in v.items():
                if isinstance(k, str) and looks_secret(k) and item not in (None, ""):
                    hidden.append(k)
                    out[k] = MASK
                else:
                    out[k] = walk(item, depth + 1)
            return out
        if isinstance(v, list):
            return [walk(item, depth + 1) for item in v]
        masked = mask_value(v)
        if masked is not v and masked != v:
            hidden.append("a URL's password")
        return masked

    return walk(value, 0), hidden
