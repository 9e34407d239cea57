#!/bin/sh
# The demo: start a small web app under tpm, list it, fetch its page, read
# its log, and stop it. Run it after installing tpm (see README, Set-up).
set -eu
cd "$(dirname "$0")"
command -v tpm-start >/dev/null || { echo "demo: tpm-start is not on PATH; install tpm first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "demo: the demo app needs python3" >&2; exit 1; }

echo '$ tpm-start --wait ./server.sh'
tpm-start --wait ./server.sh
echo; echo '$ tpm-ls'
tpm-ls
echo; echo '$ fetch http://127.0.0.1:8787/'
python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8787/").read().decode().strip())'
echo; echo '$ tpm-meta server-8787'
tpm-meta server-8787
echo; echo '$ cat "$(tpm-meta --path server-8787 out)"'
cat "$(tpm-meta --path server-8787 out)"
echo; echo '$ tpm-stop server-8787'
tpm-stop server-8787
