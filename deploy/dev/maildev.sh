#!/usr/bin/env bash
# The MailDev inbox (SMTP on SMTP_PORT, web inbox on WEB_PORT), installed once
# from npm into DIR. Usage: maildev.sh DIR SMTP_PORT WEB_PORT. Foreground.
set -euo pipefail
dir="$1" smtp="$2" web="$3"
if [ ! -x "$dir/node_modules/.bin/maildev" ]; then
  command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
  echo "==> installing MailDev from npm into $dir" >&2
  npm install --silent --no-audit --no-fund --prefix "$dir" maildev@2 >&2
fi
mkdir -p "$dir/mail"
# The inbox survives restarts, like the rest of .data/.
exec "$dir/node_modules/.bin/maildev" --smtp "$smtp" --web "$web" --ip 127.0.0.1 --mail-directory "$dir/mail" --silent
