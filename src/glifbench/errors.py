"""Errors that the command line turns into a one-line message and exit status 1."""


class DataError(RuntimeError):
    """Missing, corrupt or unexpected input data; the message names the file or URL."""


class CorruptFile(DataError):
    """A file exists but cannot be read as what it should be (truncated, damaged, wrong content).

    ``path`` names it; commands given ``--remove-if-corrupt`` (the workflow's rules, for files the
    workflow itself made) delete it, so that the next run rebuilds it instead of failing again.
    """

    def __init__(self, path, message: str):
        super().__init__(message)
        self.path = path


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); the message says where."""


class Terminated(SystemExit):
    """The process was asked to stop (SIGTERM: SLURM's time limit, ``scancel``, Snakemake shutting
    down); the exit status is ``128 + signal``. Training raises it at the next batch boundary."""
