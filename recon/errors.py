"""The two ways a run ends early, each with its exit code (SPEC §7)."""


class InputError(Exception):
    """The input cannot be read or is structurally invalid: exit 2.

    The message is one paragraph for an operator, naming the file, row and
    column. It passes through `recon.masking.scrub` before it is printed.
    """

    exit_code = 2


class InvariantError(Exception):
    """An internal invariant failed (for example conservation): exit 3, a bug."""

    exit_code = 3
