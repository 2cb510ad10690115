"""What every ``tsunagu`` command shares: exit codes, error types, the parser, reading input, printing JSON.

Every command prints JSON (UTF-8, indented) on stdout. Failures print ``{"code", "reason"}`` on
stderr, with the core's own error codes. Exit status: 0 success; 1 a verification that ran and
said "invalid"; 2 a usage or input error (unreadable file, not an SD-JWT, bad JWKS, bad flags).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any, Final, NoReturn, TypeAlias

__all__ = ["EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_INTERNAL", "CliError", "UsageError", "InputError", "Parser", "Subcommands", "Handler"]

from ..encoding import json_loads
from ..errors import EncodingError, TsunaguError

Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_USAGE: Final = 2
#: An exception the core should have typed: a bug, reported as JSON rather than a traceback.
EXIT_INTERNAL: Final = 70

#: Default bound on a decompressed status list (1 MiB: 8 million one-bit entries).
DEFAULT_MAX_STATUS_LIST_BYTES: Final = 1 << 20

#: Input files larger than this are refused before they are read in full (16 MiB).
MAX_INPUT_BYTES: Final = 16 << 20


class CliError(TsunaguError):
    code = "cli.error"


class UsageError(CliError):
    """Flags that do not make sense together, or that argparse rejected."""

    code = "cli.usage"


class InputError(CliError):
    """A file that cannot be read, or whose content is not what the command takes."""

    code = "cli.invalid_input"


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as :class:`UsageError` so they come out as JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


# --- output ------------------------------------------------------------------------------------


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def print_json(value: object, stream: IO[str] | None = None) -> None:
    print(dumps(value), file=stream if stream is not None else sys.stdout)


def error_json(error: TsunaguError) -> dict[str, str]:
    return {"code": error.code, "reason": error.reason}


# --- input -------------------------------------------------------------------------------------


def display(source: str) -> str:
    return "stdin" if source == "-" else repr(source)


def read_bytes(source: str, *, what: str) -> bytes:
    """The content of a file, or of stdin for ``-``, refusing anything over :data:`MAX_INPUT_BYTES`."""
    try:
        if source == "-":
            stdin = sys.stdin
            buffer = getattr(stdin, "buffer", None)
            raw = buffer.read(MAX_INPUT_BYTES + 1) if buffer is not None else stdin.read(MAX_INPUT_BYTES + 1)
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        else:
            with open(source, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the {what} {display(source)}: {exc.strerror or exc}", path=source) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"the {what} {display(source)} is larger than {MAX_INPUT_BYTES} bytes", path=source)
    return data


def read_text(source: str, *, what: str) -> str:
    try:
        return read_bytes(source, what=what).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InputError(f"the {what} {display(source)} is not UTF-8 text", path=source) from None


def read_json(source: str, *, what: str) -> Any:
    try:
        return json_loads(read_text(source, what=what))
    except EncodingError as exc:
        raise InputError(f"the {what} {display(source)} is not JSON: {exc.reason}", path=source) from None


def parse_time(text: str) -> datetime:
    """``--now``: seconds since 1970, or ISO 8601 (UTC when no offset is given)."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a usable time") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither ISO 8601 nor seconds since 1970") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value

