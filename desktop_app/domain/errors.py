"""Domain errors: a Vietnamese message for the clerk, precise details for the log."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken. ``message_vi`` is shown to the clerk; ``detail`` goes to the log."""

    def __init__(self, message_vi: str, detail: str = "") -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.detail = detail or message_vi

    def __str__(self) -> str:
        return self.message_vi
