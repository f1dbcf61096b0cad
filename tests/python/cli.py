"""Shared by the package's tests: the repository, and `bpsim run` through the command line, whose
files the in-process runs must equal byte for byte. BPSIM_EXE names the command (default
build/bpsim of this checkout)."""
import os
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXE = os.environ.get("BPSIM_EXE", os.path.join(ROOT, "build", "bpsim"))


def cli_run(config, sets=()):
    """report.json and ops.csv bytes of `bpsim run CONFIG --set …` (working directory: ROOT)."""
    with tempfile.TemporaryDirectory(prefix="bpsim-cli-") as out:
        cmd = [EXE, "run", config, "--out", out, "--force", "--quiet"]
        for s in sets:
            cmd += ["--set", s]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
        with open(os.path.join(out, "report.json"), "rb") as f, open(os.path.join(out, "ops.csv"), "rb") as g:
            return f.read(), g.read()


def cli(*args):
    """Another command's (exit code, stdout, stderr), as text."""
    p = subprocess.run([EXE, *args], cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr
