#!/usr/bin/env python3
"""README's command table ("Using bpsim") covers every command and every flag that
`bpsim --help` and `bpsim <command> --help` print, so a flag added to a command without a
word in the README fails here; the self-test shows the check finds a flag left out.

    python3 tests/docs/test_readme_commands.py --bpsim build/bpsim
"""
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BPSIM = None  # set from --bpsim
COMMANDS = ("run", "validate", "list", "workload", "trace", "sweep", "compare", "collective")


def bpsim_help(*args):
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    out = subprocess.run([BPSIM, *args, "--help"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise AssertionError("bpsim %s --help: exit %d: %s" % (" ".join(args), out.returncode, out.stderr))
    return out.stdout


def flags(help_text):
    """Each option of a boost::program_options listing as its spellings: {"--jobs", "-j"}."""
    found = []
    for line in help_text.splitlines():
        m = re.match(r"^\s+(-\w)?\s*(?:\[ )?(--[a-z][a-z0-9-]*)", line)
        if m and m.group(2) != "--help":
            found.append({s for s in m.groups() if s})
    return found


def command_table(readme_text):
    """The code block under "## Using bpsim": per command, its lines and their continuations,
    with the flags of any NAME it mentions that a "NAME: ..." line of the block spells out."""
    block = readme_text.split("## Using bpsim", 1)[1].split("```\n", 2)[1]
    table, names, current, name = {}, {}, None, None
    for line in block.splitlines():
        named = re.match(r"^\s*([A-Z]+): (.*)", line)
        if named:
            current, name = None, named.group(1)
            names[name] = named.group(2)
            continue
        m = re.match(r"^bpsim (\w+)", line)
        if m:
            current, name = m.group(1), None
        if name:  # a NAME's continuation line
            names[name] += " " + line
        if current:
            table[current] = table.get(current, "") + line + "\n"
            # "... | bpsim trace check": a second command on one line
            for other in re.findall(r"\| bpsim (\w+)", line):
                table[other] = table.get(other, "") + line + "\n"
    for cmd, text in table.items():
        table[cmd] = text + "".join(v + "\n" for k, v in names.items() if re.search(r"\b%s\b" % k, text))
    return table


def missing(readme_text, helps):
    """What the README's table leaves out: "command" or "command --flag"."""
    table = command_table(readme_text)
    out = []
    for cmd, text in helps.items():
        if cmd not in table:
            out.append(cmd)
            continue
        for spellings in flags(text):
            if not any(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(s), table[cmd]) for s in spellings):
                out.append("%s %s" % (cmd, sorted(spellings)[0]))
    return out


class ReadmeCommands(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            self.readme = f.read()
        self.helps = {c: bpsim_help(c) for c in COMMANDS}

    def test_every_command_of_bpsim_help_is_documented(self):
        section = bpsim_help().split("commands:", 1)[1].strip("\n").split("\n\n", 1)[0]
        listed = re.findall(r"^  (\w+) ", section, re.M)
        self.assertTrue(listed, "bpsim --help lists no commands")
        self.assertEqual([c for c in listed if c not in COMMANDS], [], "a command this test does not ask for --help")
        self.assertEqual([c for c in COMMANDS if c not in command_table(self.readme)], [])

    def test_every_flag_is_in_the_readme(self):
        self.assertEqual(missing(self.readme, self.helps), [],
                         "README.md, 'Using bpsim': add these to the command table")

    def test_the_check_finds_a_flag_left_out(self):
        # The run line without --trace-vcd: the check must name it (and only it).
        cut = self.readme.replace(" [--trace-vcd FILE]", "", 1)
        self.assertNotEqual(cut, self.readme)
        self.assertEqual(missing(cut, {"run": self.helps["run"]}), ["run --trace-vcd"])


if __name__ == "__main__":
    import bpsim_main

    bpsim_main.main(sys.modules[__name__])
