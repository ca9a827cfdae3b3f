"""Every shell example in README.md runs as written (issue 13 item 6), or the README marks it as
illustrative itself.

The command lines of the README's ```bash / ```sh / ```console blocks are extracted (``&&`` chains
split, ``#`` comments dropped). Each ``forecast ...`` command runs in-process (CliRunner) with the
current folder in one shared copy of the session's tiny fitted workspace, as a user would type it
there. Two substitutions keep the cost low, and nothing else is changed:

* ``fit`` and ``backtest`` sample with tiny draws (``TINY``), and ``backtest`` covers one origin
  on the local cluster (its ``--scheduler`` example runs against a real cluster in test_cluster.py);
  those run once each in the slow suite, and the default suite checks that they parse (the default
  suite's shared fit is itself ``forecast fit`` with tiny draws).
* a tiny fit fails its diagnostics, so ``brief`` gets ``--allow-failed-diagnostics``.

Any other command (``pip``, ``pytest``, ``python benchmarks/...``) must be marked in the README by
an HTML comment on the line before its block: ``<!-- illustrative -->`` (the whole block is not run)
or ``<!-- illustrative: pip, pytest -->`` (commands of those programs are not run; the rest are).
A new README command that is neither run nor marked fails ``test_every_command_is_run_or_marked``.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from data_years import LAST_DATA_YEAR

from forecast import api
from forecast.cli.main import main

README = Path(__file__).resolve().parent.parent / "README.md"
TINY = ["--draws", "60", "--tune", "60", "--chains", "2", "--seed", "7", "--no-retry"]
EXPENSIVE = ("fit", "backtest", "reference fit", "reference backtest")
# 'forecast reference fit' writes into --out, never into the shipped data/reference/ from a test
REFERENCE_SERVICE = {"fit": "fit_reference_class", "backtest": "backtest_reference_class"}
# a command whose documented outcome is a refusal: (argv) -> exit code
EXPECTED_EXIT = {("data", "check", "-w", "ws"): 1}  # a blank workspace: 'lists what is still missing'


@dataclass(frozen=True)
class Command:
    line: int            # line number in README.md
    block: int           # line number of the block's opening fence
    argv: tuple[str, ...]
    illustrative: bool   # marked in the README: not run

    @property
    def program(self) -> str:
        return self.argv[0]

    @property
    def expensive(self) -> bool:
        return self.program == "forecast" and (self.argv[1:2] in [(e,) for e in EXPENSIVE]
                                               or self.argv[1:3] in [tuple(e.split()) for e in EXPENSIVE])

    def __str__(self) -> str:
        return f"README.md:{self.line}: {shlex.join(self.argv)}"


def readme_commands(text: str) -> list[Command]:
    """The commands of every bash/sh/console block, with the README's own illustrative marks."""
    lines = text.splitlines()
    out: list[Command] = []
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"```(bash|sh|shell|console)\s*", lines[i])
        if not fence:
            i += 1
            continue
        mark = re.fullmatch(r"<!--\s*illustrative(?::\s*(.*?))?\s*-->", lines[i - 1].strip()) if i else None
        not_run = None if mark is None else {p.strip() for p in (mark.group(1) or "").split(",") if p.strip()}
        block, i = i + 1, i + 1
        while not lines[i].startswith("```"):
            body = lines[i].strip().removeprefix("$ ")
            for part in body.split("&&"):
                argv = tuple(shlex.split(part, comments=True))
                if argv:
                    marked = not_run is not None and (not not_run or argv[0] in not_run)
                    out.append(Command(i + 1, block, argv, marked))
            i += 1
        i += 1
    return out


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
TO_RUN = [c for c in COMMANDS if not c.illustrative]
BLOCKS = sorted({c.block for c in TO_RUN})


def test_the_extraction_finds_the_examples():
    progs = {c.argv[:2] for c in COMMANDS}
    assert {("forecast", "fit"), ("forecast", "show"), ("forecast", "update"), ("forecast", "check"),
            ("forecast", "backtest"), ("forecast", "brief"), ("pip", "install")} <= progs
    assert len(COMMANDS) >= 20


def test_every_command_is_run_or_marked():
    """Only 'forecast' commands can run here; any other must be marked illustrative in the README."""
    unmarked = [str(c) for c in TO_RUN if c.program != "forecast"]
    assert not unmarked, ("README commands neither run by tests/test_readme.py nor marked "
                          "<!-- illustrative --> before their block:\n" + "\n".join(unmarked))


def test_the_readme_marks_only_what_cannot_run_here():
    """Marks exist for the install, test-suite and benchmark commands, not to hide a forecast command."""
    assert not [str(c) for c in COMMANDS if c.illustrative and c.program == "forecast"]


def invocation(argv: tuple[str, ...]) -> list[str]:
    """The CLI arguments for a README command, with the documented substitutions."""
    args = list(argv[1:])
    if args[0] == "fit":
        args += TINY
    elif args[0] == "backtest":  # one origin: the last coded year
        for opt in ("--from", "--scheduler"):  # the README's cluster runs in tests/test_cluster.py
            if opt in args:
                j = args.index(opt)
                del args[j:j + 2]
        args += ["--from", str(LAST_DATA_YEAR), "--to", str(LAST_DATA_YEAR), *TINY[:-1]]
    elif args[0] == "brief":
        args.append("--allow-failed-diagnostics")
    elif args[:2] == ["reference", "fit"]:
        args = [a for i, a in enumerate(args) if a != "--out" and (i == 0 or args[i - 1] != "--out")]
        args += [*TINY[:-1], "--out", "reference-fit-out"]
    elif args[:2] == ["reference", "backtest"]:
        args = [a for i, a in enumerate(args) if a != "--origin" and (i == 0 or args[i - 1] != "--origin")]
        args += ["--origin", "1975", "--draws", "30", "--tune", "30", "--chains", "1", "--jobs", "1"]
    return args


@pytest.fixture(scope="module")
def readme_folder(session_fit, tmp_path_factory):
    """One shared copy of the tiny fitted workspace for the whole module (the README's commands run
    in order inside it, as on a fresh clone after 'forecast fit')."""
    src, _ = session_fit
    dst = tmp_path_factory.mktemp("readme") / "clone"
    shutil.copytree(src.root, dst)
    return dst


def run(folder: Path, command: Command, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, invocation(command.argv))
    expected = EXPECTED_EXIT.get(command.argv[1:], 0)
    assert "Traceback" not in result.output, f"{command}\n{result.output}"
    assert result.exit_code == expected, f"{command}: exit {result.exit_code}\n{result.output}"


class Parsed(Exception):
    """Raised instead of sampling: the command line was accepted and reached the API."""


def parses(folder: Path, command: Command, monkeypatch) -> None:
    """The cheap variant of an expensive command: click accepts it as written (with the substitutions)
    and it reaches the API call, which is stopped there."""
    def stop(*args, **kwargs):
        raise Parsed(command.argv[1])

    with monkeypatch.context() as mp:
        if command.argv[1] == "reference":
            import forecast.reference.service as service

            mp.setattr(service, REFERENCE_SERVICE[command.argv[2]], stop)
        else:
            mp.setattr(api.Project, command.argv[1], stop)
        mp.chdir(folder)
        result = CliRunner().invoke(main, invocation(command.argv))
    assert isinstance(result.exception, Parsed), f"{command}: exit {result.exit_code}\n{result.output}"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b}" for b in BLOCKS])
def test_readme_block_runs(block, readme_folder, monkeypatch):
    """The block's cheap commands run as written; its expensive ones (fit, backtest) parse here and
    run in the slow suite."""
    for command in (c for c in TO_RUN if c.block == block and c.program == "forecast"):
        if command.expensive:
            parses(readme_folder, command, monkeypatch)
            continue
        run(readme_folder, command, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in TO_RUN if c.expensive], ids=str)
def test_readme_expensive_command_runs(command, session_fit, tmp_path, monkeypatch):
    src, _ = session_fit
    shutil.copytree(src.root, tmp_path / "clone")
    run(tmp_path / "clone", command, monkeypatch)
