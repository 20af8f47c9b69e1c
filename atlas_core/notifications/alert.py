"""Text for Discord: :func:`escape_markdown`. The outbox's :class:`Alert` is defined in
:mod:`atlas_core.alerts_model` (the store builds its rows) and named here for the pipeline."""

from __future__ import annotations

import re

from atlas_core.alerts_model import Alert

__all__ = ["Alert", "escape_markdown"]

# Discord markdown: emphasis, code, spoilers, quotes, headings, lists, links, masked links.
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<:])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by Discord: markdown characters are backslash-escaped and
    ``@`` gets a zero-width space so ``@everyone``/``@here`` never read as mentions (the
    embeds also set ``allowed_mentions``, so nothing pings in any case)."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("@", "@\u200b")
