"""The one error type of the analysis tool: bad input, reported as one line naming its source."""


class InputError(Exception):
    """A file or option that cannot be analysed; str() is '<where>: <what is wrong>'.

    latdiff-analyze prints it as one line and exits 2, so every message says what is allowed.
    """

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what
