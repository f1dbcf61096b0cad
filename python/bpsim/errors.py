"""bpsim.InputError: a config, spec or trace the simulator refuses, with where and why."""
import re

# "file:line:col: key.path: message" (sim/core/error.cpp); line, column and key path may be absent.
_FORMAT = re.compile(r"^(?P<file>.+?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?: (?:(?P<key>[A-Za-z0-9_.\[\]-]+): )?(?P<message>.*)$",
                     re.S)


class InputError(ValueError):
    """Bad input (the CLI's exit code 2). Attributes: file, line, column (0 when unknown),
    key (the key path, "" when the error is about the whole file) and message."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text
        m = _FORMAT.match(text)
        if m:
            self.file = m["file"]
            self.line = int(m["line"] or 0)
            self.column = int(m["column"] or 0)
            self.key = m["key"] or ""
            self.message = m["message"]
        else:
            self.file, self.line, self.column, self.key, self.message = "", 0, 0, "", text
