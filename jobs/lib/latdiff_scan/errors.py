"""The error types of jobs/scan: a one-line message (naming the file or key and what is
allowed) that the command line prints as it is, with exit code 2 (bad input) or 1 (a file
that could not be written) or 4 (the scan directory is in use by another submit)."""


class ScanError(Exception):
    """Bad scan file, scan directory or option; the message is one line."""

    exit_code = 2


class ScanWriteError(ScanError):
    """A file of the scan directory could not be written (full disk, permissions)."""

    exit_code = 1


class ScanBusyError(ScanError):
    """Another jobs/scan submit holds the scan directory."""

    exit_code = 4
