"""Errors that the command line turns into a one-line message and exit status 1."""


class DataError(RuntimeError):
    """Missing, corrupt or unexpected input data; the message names the file or URL."""


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); the message says where."""
