"""The import contracts of `.importlinter` hold: the platform (alpespartners) imports no context, the
contexts do not import each other (contexts register with alpespartners.registry instead), the
shared kernel is plain Python, and no import circle exists anywhere."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    # import-linter's command line (`lint-imports`), from the virtualenv running the tests; it
    # parses the sources of the root packages named in .importlinter
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache", "--no-logo", str(ROOT / ".importlinter")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, f"lint-imports found broken contracts:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout
