#!/usr/bin/env bash
# Installs inkstroke and everything its tests use on a fresh Debian 12 machine:
# Debian packages (Tesseract, Zinnia and its models, CJK fonts, Chromium for the
# studio's browser tests), a virtual
# environment in .venv with the CPU build of PyTorch, and the package itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT=(tesseract-ocr zinnia-utils tegaki-zinnia-simplified-chinese tegaki-zinnia-japanese
     fonts-arphic-gkai00mp fonts-arphic-ukai fonts-ipafont-mincho fonts-ipafont-gothic fonts-dejavu-core
     chromium)
missing=()
for p in "${APT[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# the CPU build of torch: pinned, so pip never pulls a multi-GB CUDA build
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test]"
echo "installed: $(.venv/bin/inkstroke --version 2>/dev/null || echo inkstroke)"
