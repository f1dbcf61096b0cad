"""bpsim.run and bpsim.workload: configs given as a file or a dict, overrides as `--set` does."""
import json
import os
import re
import tempfile

from . import _core
from .errors import InputError
from .report import Report


# A string written as it is reads back as the same string in YAML when it is a plain word
# that YAML does not take for a boolean, null or number.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf"}


def _yaml_value(v):
    """v as YAML text: a plain word as a user types it after --set (so the report's config echo
    is the CLI's), anything else as JSON, which YAML reads back as written (flow style)."""
    if isinstance(v, str) and _PLAIN.fullmatch(v) and v.lower().lstrip(".") not in _YAML_WORDS:
        return v
    return json.dumps(v)


def _assignments(overrides):
    """`--set` strings from a dict {"accelerator.rows": 64} or a list ["accelerator.rows=64"]."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        out = []
        for k, v in overrides.items():
            if not isinstance(k, str) or not k:
                raise TypeError(f"bpsim: override key {k!r}: expected a key path such as 'accelerator.rows'")
            out.append(f"{k}={_yaml_value(v)}")
        return out
    if isinstance(overrides, (list, tuple)):
        for o in overrides:
            if not isinstance(o, str) or "=" not in o:
                raise TypeError(f"bpsim: override {o!r}: expected 'key.path=value'")
        return list(overrides)
    raise TypeError("bpsim: overrides: expected a dict {key.path: value} or a list of 'key.path=value'")


def _flatten(prefix, node, out):
    """A dict config's leaves as `--set` assignments, so that they deep-merge over its includes
    the way a file's own keys do (a map merges key by key; anything else replaces)."""
    for k, v in node.items():
        if not isinstance(k, str) or not k or "." in k or "=" in k:
            raise InputError(f"<dict>: {prefix}{k}: a key of a config given as a dict must be a plain name")
        path = prefix + k
        if isinstance(v, dict) and v:
            _flatten(path + ".", v, out)
        else:
            out.append(f"{path}={_yaml_value(v)}")


class _DictConfig:
    """A config given as a dict: a file holding only its includes (paths relative to `base_dir`,
    as a file's are to its folder), and the rest applied as overrides in document order."""

    def __init__(self, config, base_dir):
        config = dict(config)
        include = config.pop("include", [])
        if isinstance(include, str):
            include = [include]
        if not isinstance(include, (list, tuple)) or not all(isinstance(i, str) for i in include):
            raise InputError("<dict>: include: expected a file name or a list of file names")
        base = os.path.abspath(base_dir or os.getcwd())
        files = [i if os.path.isabs(i) else os.path.normpath(os.path.join(base, i)) for i in include]
        self._dir = tempfile.TemporaryDirectory(prefix="bpsim-config-")
        self.path = os.path.join(self._dir.name, "config.yaml")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write("include: " + json.dumps(files) + "\n" if files else "{}\n")
        self.sets = []
        _flatten("", config, self.sets)

    def close(self):
        self._dir.cleanup()


def _raise_input_error(e):
    raise InputError(str(e)) from None


def run(config, overrides=None, seed=None, base_dir=None):
    """Simulates one training step (or DRAM traffic test) and returns its Report.

    config: a config file's path, or a dict with the same keys (its `include` and other paths are
    relative to base_dir, default the working directory). overrides: {"key.path": value} or
    ["key.path=value"], applied after the config as `bpsim run --set` does. seed: run.seed.
    Raises bpsim.InputError for bad input, RuntimeError when a model or a law check fails."""
    sets = _assignments(overrides)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"bpsim: seed: expected an integer, found {seed!r}")
        sets.append(f"run.seed={seed}")
    temp = None
    if isinstance(config, dict):
        temp = _DictConfig(config, base_dir)
        path, sets = temp.path, temp.sets + sets
    elif isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
    else:
        raise TypeError("bpsim: config: expected a file path or a dict")
    try:
        report_json, ops_csv = _core.run(path, sets)
    except _core.InputError as e:
        _raise_input_error(e)
    finally:
        if temp:
            temp.close()
    return Report(report_json, ops_csv)


def workload(spec, **flags):
    """`bpsim workload SPEC --json [--FLAG VALUE …]` in this process: the op graph and memory
    accounting of a training step, as a dict. Flags as keyword arguments, e.g. policy="optimal",
    budget=150e6, batch=8, breakdown=True, policies="none,checkpoint" (`bpsim workload --help`)."""
    args = ["workload", os.fspath(spec), "--json"]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        args.append("--" + name.replace("_", "-"))
        if value is not True:
            args.append(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    rc, out, err = _core.command(args)
    if rc == 2:
        text = err.decode().strip()
        raise InputError(text[len("bpsim: "):] if text.startswith("bpsim: ") else text)
    if rc != 0:
        raise RuntimeError(err.decode().strip())
    return json.loads(out)
