#!/bin/sh
# A small web app for the demo: it serves demo/www on $PORT and says so.
PORT=8787
cd "$(dirname "$0")/www" || exit 1
echo "demo app serving $(pwd) on port $PORT"
exec python3 -m http.server --bind 127.0.0.1 "$PORT"
