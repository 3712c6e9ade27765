"""Domain errors; the CLI and the web app each map them to exit codes or statuses in one place."""


class WanggeError(Exception):
    """Base of every error wangge reports to a person."""

    exit_code = 1


class ClusterError(WanggeError):
    """The embedded PostgreSQL cluster could not be created, started or reached."""


class ConfigError(WanggeError):
    """The environment or a command's arguments do not make sense."""

    exit_code = 2


class NotFoundError(WanggeError):
    """An object does not exist, or is outside the caller's scope."""


class ConflictError(WanggeError):
    """The request is sound but clashes with what is there now (a second active quarantine,
    a bed taken meanwhile): exit code 1, HTTP 409."""
