#!/usr/bin/env bash
# Installs cfgctl from the repository this action was taken from (the `@ref` of `uses:` pins the
# version), unless the same version is on PATH already. Shared by every cfgctl action.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/cfgctl/_version.py" | head -n1)"
have="$(cfgctl --version 2>/dev/null | awk '{print $2}' || true)"
if [ -n "$want" ] && [ "$have" = "$want" ]; then
  echo "cfgctl $have is installed"
  exit 0
fi
python -m pip install --quiet --disable-pip-version-check "$root"
cfgctl --version
