#!/bin/bash
# make.sh writes dump.pm2 beside it the way a PM2 user gets one: a few apps
# started with PM2, then `pm2 save`. It is how the file in this folder was
# made (pm2 7.0.4 from npm, Node.js 20.20.2, Linux, run as root); the tests
# never run it. It needs node and npm, and writes under /home/deploy (a
# made-up user's home, which the tests rewrite to their own folder): run it
# on a scratch machine, as root.
#
# PM2 snapshots the whole environment of the shell that runs `pm2 start`,
# so every pm2 command runs under env -i with a small, known environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
D=/home/deploy
mkdir -p "$D/app"
npm install -g --prefix "$D/.npm-global" pm2@7.0.4 >/dev/null
pm2() {
	env -i HOME=$D PM2_HOME=$D/.pm2 PATH=$D/.npm-global/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
}

cd "$D/app"
cat >api.js <<'EOF'
// A small HTTP server on $PORT.
const http = require('http');
const port = Number(process.env.PORT);
http.createServer((req, res) => res.end('api ' + process.env.NODE_ENV + ' ' + process.env.LOG_LEVEL + '\n')).listen(port, '127.0.0.1');
console.log('api on ' + port + ' args=' + process.execArgv.join(' '));
EOF
cat >web.js <<'EOF'
// Served by PM2's cluster mode: the workers share $PORT.
const http = require('http');
http.createServer((req, res) => res.end('web\n')).listen(Number(process.env.PORT), '127.0.0.1');
console.log('web instance=' + process.env.NODE_APP_INSTANCE);
EOF
cat >worker.sh <<'EOF'
#!/bin/bash
# A queue worker: says what it was given, then waits.
echo "worker $* queue=$QUEUE_URL in $PWD"
exec sleep 3600
EOF
cat >report.sh <<'EOF'
#!/bin/bash
# A report that runs once; PM2 must not restart it.
echo "report $* mode=$REPORT_MODE"
exec sleep 3600
EOF
cat >tick.py <<'EOF'
import time
while True:
    print("tick", flush=True)
    time.sleep(60)
EOF
chmod +x worker.sh report.sh
cat >ecosystem.config.js <<'EOF'
module.exports = {
  apps: [
    {
      name: 'api',
      script: 'api.js',
      node_args: '--max-old-space-size=128',
      env: { PORT: 47310, LOG_LEVEL: 'info' },
      env_production: { NODE_ENV: 'production', LOG_LEVEL: 'warn' },
      max_restarts: 5,
      min_uptime: '5s',
      restart_delay: 2000,
      kill_timeout: 5000,
    },
    {
      name: 'report',
      script: './report.sh',
      args: '--daily --to ops@example.com',
      autorestart: false,
      max_memory_restart: '100M',
      env: { REPORT_MODE: 'full' },
    },
  ],
};
EOF

pm2 pm2 start ecosystem.config.js --env production
# From the home folder: the worker's cwd is not its script's folder.
(cd "$D" && pm2 QUEUE_URL=redis://127.0.0.1:6379/0 pm2 start app/worker.sh --name worker -- --queue jobs --verbose)
pm2 PORT=47320 pm2 start web.js -i 2 --name web
pm2 pm2 start tick.py --name tick --interpreter python3
pm2 pm2 stop tick
pm2 pm2 save
cp "$D/.pm2/dump.pm2" "$here/dump.pm2"
pm2 pm2 kill
