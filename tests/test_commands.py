"""The shared behaviour of tests/mixins.py, applied to every command registered on the app.

A test class is made per command, so that a new command is held to the same rules (bad and
empty files, ``-o`` safety, exit codes) the moment it is registered.
"""

from __future__ import annotations

from mixins import BadFileTests, EmptyFileTests, ExitCodeTests, OutputTests, commands


def _case(name: str) -> type:
    return type(
        f"TestCommand_{name.replace('-', '_').replace(' ', '_')}",
        (ExitCodeTests, BadFileTests, EmptyFileTests, OutputTests),
        {"command": name, "__doc__": f"`slacalc {name}`: the behaviour every command shares."},
    )


for _name in commands():
    globals()[f"TestCommand_{_name.replace('-', '_').replace(' ', '_')}"] = _case(_name)


def test_every_registered_command_is_covered() -> None:
    covered = {name[len("TestCommand_") :] for name in globals() if name.startswith("TestCommand_")}
    assert covered == {n.replace("-", "_").replace(" ", "_") for n in commands()}
    assert len(covered) >= 8
