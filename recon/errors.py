"""The two ways a run ends early, each with its exit code (SPEC §7)."""

from collections.abc import Iterable


class InputError(Exception):
    """The input cannot be read or is structurally invalid: exit 2.

    The message is one paragraph for an operator, naming the file, row and
    column, and quotes at most the one offending value, masked (never a row).
    It passes through `recon.masking.error_text` before it is printed;
    `identifiers` are the member ids (or other identifiers) it quotes, which
    that scrubber writes as they are, whatever their digits.
    """

    exit_code = 2

    def __init__(self, message: str, identifiers: Iterable[str] = ()):
        super().__init__(message)
        self.identifiers = tuple(identifiers)


class WorkingFolderGone(InputError):
    """The folder the process runs in was deleted under it (`recon.runs.require_working_folder`).

    Said with a prefix of its own: nothing has been read yet, so it is no input error.
    """


class InvariantError(Exception):
    """An internal invariant failed (for example conservation): exit 3, a bug.

    `identifiers` are the member ids (or other identifiers) the message quotes:
    `recon.masking.error_text` writes them as they are, whatever their digits.
    """

    exit_code = 3

    def __init__(self, message: str, identifiers: Iterable[str] = ()):
        super().__init__(message)
        self.identifiers = tuple(identifiers)
