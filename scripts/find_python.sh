#!/usr/bin/env bash
# Print a Python >= 3.12 interpreter: on PATH, or one pyenv installed but did not select.
for candidate in python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
    command -v "$candidate"
    exit 0
  fi
done
for interpreter in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.1[2-9]*/bin/python3; do
  if [ -x "$interpreter" ]; then
    echo "$interpreter"
    exit 0
  fi
done
echo "Python >= 3.12 not found: install python3.12 (or pyenv install 3.12)" >&2
exit 1
