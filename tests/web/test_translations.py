"""The Chinese catalogue is complete and its compiled form is the one committed."""

import subprocess
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def gettext_tool(*args: str) -> str:
    """Run one of Debian's gettext tools (bin/test installs them) on fixed arguments."""
    return subprocess.run(  # noqa: S603 - our own arguments, no user input
        list(args), capture_output=True, text=True, check=True
    ).stdout


def test_every_message_in_the_catalogue_has_a_chinese_translation() -> None:
    source = str(CATALOGUE / "django.po")
    assert gettext_tool("msgattrib", "--untranslated", "--no-obsolete", source) == ""


def test_the_committed_compiled_catalogue_matches_its_source(tmp_path: Path) -> None:
    # bin/run serves the committed .mo without gettext, so it must be the compiled .po.
    compiled = tmp_path / "django.mo"
    gettext_tool("msgfmt", "--check-format", "-o", str(compiled), str(CATALOGUE / "django.po"))
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()
