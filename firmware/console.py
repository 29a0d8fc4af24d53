"""The technician's console: the `switchboard` commands as an interactive shell on a serial line.

Every line typed is one `switchboard` command (the same parser, the same code), so the console can
do whatever the command line can, with tab completion and help from the parser itself. It asks for
the technician password first; on a new box the first person at the console sets it.

Forgotten password (physical presence): take the SD card out, create an empty file named
`switchboard-console-reset` on its boot partition, put it back and boot; the console then asks for
a new password and deletes the file.
"""

from __future__ import annotations

import argparse
import cmd
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shlex
import signal
import sys
import termios
from pathlib import Path

RESET_FLAG = Path("/boot/firmware/switchboard-console-reset")
NOT_IN_CONSOLE = {"engine", "run", "console", "web", "init", "encode"}
NAMED = {"line": "lines", "line-test": "lines", "operator": "operators", "headset-test": "operators"}
"""Commands whose first argument is a line's or an operator's name: TAB offers the configured ones."""
MAX_TRIES = 3


class Passwords:
    """The technician password, hashed with scrypt, in `<data>/console/technician.json`."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "console" / "technician.json"

    def is_set(self) -> bool:
        return self.path.exists()

    def set(self, password: str) -> None:
        salt = secrets.token_bytes(16)
        record = {"salt": salt.hex(), "hash": self._hash(password, salt).hex()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.chmod(0o600)
        os.replace(tmp, self.path)

    def check(self, password: str) -> bool:
        record = json.loads(self.path.read_text())
        return hmac.compare_digest(self._hash(password, bytes.fromhex(record["salt"])).hex(), record["hash"])

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    @staticmethod
    def _hash(password: str, salt: bytes) -> bytes:
        return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


class Console(cmd.Cmd):
    intro = "Switchboard technician console. Type help, or a command and TAB to complete; exit to leave."
    prompt = "switchboard> "

    def __init__(self, data_dir: Path, parser: argparse.ArgumentParser):
        super().__init__()
        self.data_dir, self.parser = data_dir, parser
        self.commands = {name: sub for name, sub in _subcommands(parser).items() if name not in NOT_IN_CONSOLE}

    # Every command is a `switchboard` command, run in this process.
    def default(self, line: str) -> None:
        from firmware.cli import run_command
        try:
            words = shlex.split(line)
        except ValueError as exc:
            print(f"cannot read that line: {exc}")
            return
        if words[0] not in self.commands:
            print(f"unknown command {words[0]!r}; type help")
            return
        try:
            run_command(self.parser, ["--data-dir", str(self.data_dir), *words])
        except SystemExit:
            pass  # argparse already said what was wrong

    def emptyline(self) -> None:
        pass

    def do_help(self, arg: str) -> None:
        """help [COMMAND]: list the commands, or explain one."""
        if arg.split() and arg.split()[0] in self.commands:
            self.default(f"{arg} --help")
            return
        print("commands:")
        for name, sub in sorted(self.commands.items()):
            print(f"  {name:<16} {(sub.description or '').splitlines()[0] if sub.description else ''}")
        print("  exit             leave the console")

    def do_exit(self, arg: str) -> bool:
        """exit: leave the console."""
        return True

    do_EOF = do_quit = do_exit

    # Completion from the parser: command names, subcommands, choices and options.
    def completenames(self, text: str, *ignored) -> list[str]:
        return [n + " " for n in sorted(list(self.commands) + ["help", "exit"]) if n.startswith(text)]

    def completedefault(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        parser = self.parser
        words = shlex.split(line[:begidx])
        for word in words:
            subs = _subcommands(parser)
            if word in subs:
                parser = subs[word]
        found = _candidates(parser)
        if words and words[0] in NAMED and not _positionals(parser, words[1:]):
            found |= set(_configured_names(self.data_dir, NAMED[words[0]]))
        return [c + " " for c in sorted(found) if c.startswith(text)]

    complete_help = completedefault


def _positionals(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """The words that are not options or option values."""
    takes_value = {o for a in parser._actions if a.nargs != 0 for o in a.option_strings}
    found, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in takes_value
        else:
            found.append(word)
    return found


def _configured_names(data_dir: Path, section: str) -> list[str]:
    """Names of the stored configuration's lines or operators (none when it cannot be read)."""
    import tomllib
    from firmware.store import db as dbmod, queries
    try:
        text = queries.current_config(dbmod.open_read(data_dir))
        return [str(item.get("name")) for item in tomllib.loads(text or "").get(section, [])]
    except Exception:  # completion must never break the console
        return []


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _candidates(parser: argparse.ArgumentParser) -> set[str]:
    found = set(_subcommands(parser))
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        found.update(action.option_strings)
        if action.choices and not isinstance(action, argparse._SubParsersAction):
            found.update(str(c) for c in action.choices)
    return {c for c in found if c not in ("-h", "--help")}


def read_secret(prompt: str) -> str:
    """Read a line without echo from the terminal on stdin."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd) if os.isatty(fd) else None
    if old:
        new = termios.tcgetattr(fd)
        new[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
    try:
        line = sys.stdin.readline()
    finally:
        if old:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        sys.stdout.write("\n")
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def log_in(passwords: Passwords, reset_flag: Path) -> bool:
    if reset_flag.exists():
        passwords.clear()
        print("Password reset requested from the boot partition.")
    if not passwords.is_set():
        print("No technician password is set on this box yet. Choose one (at least 8 characters).")
        while True:
            first = read_secret("new technician password: ")
            if len(first) < 8:
                print("too short")
                continue
            if read_secret("again: ") == first:
                passwords.set(first)
                reset_flag.unlink(missing_ok=True)
                print("password set")
                return True
            print("the two did not match")
    for _ in range(MAX_TRIES):
        if passwords.check(read_secret("technician password: ")):
            return True
        print("wrong password")
    return False


def attach(tty: str) -> None:
    """Use a serial device (the UART, or a pty in tests) as this process's terminal."""
    try:
        os.setsid()  # a session of its own, so the serial line can become its controlling terminal
    except OSError:
        pass  # already a session leader (systemd starts services so)
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    try:
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)  # Ctrl-C on the line interrupts a command (log --follow)
    except OSError:
        pass  # the line is some other session's terminal: Ctrl-C will not reach us, Enter still works
    _sane(fd)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    os.close(fd)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = sys.stdout


def _sane(fd: int) -> None:
    """Line editing as a terminal user expects, whatever state the serial line was left in (as
    getty would set it): 115200 8N1, CR typed as end of line, LF written as CR LF, echo."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
    iflag = (iflag | termios.ICRNL | termios.IXON) & ~(termios.INLCR | termios.IGNCR)
    oflag |= termios.OPOST | termios.ONLCR
    cflag = (cflag & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    lflag |= termios.ICANON | termios.ECHO | termios.ECHOE | termios.ECHOK | termios.ISIG | termios.IEXTEN
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, termios.B115200, termios.B115200, cc])


def run(data_dir: Path, parser: argparse.ArgumentParser, tty: str | None, reset_flag: Path = RESET_FLAG) -> int:
    if tty:
        attach(tty)
    # Ctrl-C must interrupt a command even when the parent ignored SIGINT (a child inherits SIG_IGN,
    # and then Python installs no KeyboardInterrupt handler: the console would ignore Ctrl-C).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.setdefault("TERM", "vt100")
    try:
        if not log_in(Passwords(data_dir), reset_flag):
            return 1
        import readline  # line editing and TAB completion on the terminal
        # Words end only at spaces: readline's default also splits at '-', so neither hyphenated
        # commands (line-test) nor options (--seconds) would complete.
        readline.set_completer_delims(" \t\n")
        shell = Console(data_dir, parser)
        while True:
            try:
                shell.cmdloop()
                break
            except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh prompt, not the end of the session
                print("^C")
                shell.intro = ""
    except (EOFError, KeyboardInterrupt):
        print()
    return 0
