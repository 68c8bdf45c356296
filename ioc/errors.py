"""Errors the operator fixes: each message is one sentence saying what is wrong and what to do."""

from __future__ import annotations


class OperatorError(RuntimeError):
    """A command cannot go on until the operator changes something; printed, not traced."""
