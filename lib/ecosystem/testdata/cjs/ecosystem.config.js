// PM2 ecosystem for the storefront: API, workers, the admin UI and a
// Python image service. Start with: pm2 start ecosystem.config.js --env production
require('dotenv').config();

const path = require('path');
const os = require('node:os');
const { common, logs } = require('./shared');
const ports = require('./ports.json');

const ROOT = path.resolve(__dirname);
const isProd = process.env.NODE_ENV === 'production';
const cpuCount = os.cpus().length;

/** @type {import('pm2').StartOptions[]} */
const workers = ['emails', 'thumbnails'].map((queue, i) => ({
  ...common,
  name: `worker-${queue}`,
  script: path.join(ROOT, 'dist', 'worker.js'),
  args: `--queue ${queue} --concurrency ${i + 2}`,
  instances: 1,
  max_memory_restart: '300M',
  env: {
    ...common.env,
    QUEUE: queue,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
}));

module.exports = {
  apps: [
    {
      ...common,
      name: 'storefront api',
      script: './dist/server.js',
      cwd: ROOT,
      instances: 'max',
      exec_mode: 'cluster',
      node_args: '--max-old-space-size=512 --enable-source-maps',
      watch: false,
      ignore_watch: ['node_modules', 'logs'],
      max_memory_restart: '1G',
      out_file: path.join(logs, 'api-out.log'),
      error_file: path.join(logs, 'api-error.log'),
      merge_logs: true,
      log_date_format: 'YYYY-MM-DD HH:mm:ss Z',
      wait_ready: true,
      listen_timeout: 8000,
      kill_timeout: 5000,
      env: {
        ...common.env,
        PORT: process.env.PORT || 3000,
        DATABASE_URL: process.env.DATABASE_URL,
        CACHE_TTL: 60,
        FEATURE_FLAGS: { checkout: true, wishlist: false },
        DEBUG: isProd ? undefined : 'app:*',
      },
      env_production: {
        NODE_ENV: 'production',
        PORT: ports.api,
      },
      env_staging: {
        NODE_ENV: 'staging',
        PORT: ports.api + 1,
      },
    },
    ...workers,
    {
      name: 'admin',
      script: 'npm start',
      cwd: './admin',
      autorestart: 'false',
      max_restarts: '5',
      min_uptime: '10s',
      restart_delay: 2000,
      env: { PORT: 4000, BROWSER: 'none' },
      env_production: { NODE_ENV: 'production' },
    },
    {
      name: 'images',
      script: 'python3 -u app.py',
      interpreter: 'none',
      instances: -1,
      exp_backoff_restart_delay: 100,
      stop_exit_codes: [0, 143],
      increment_var: 'PORT',
      port: 5000,
      cron_restart: '0 3 * * *',
      time: true,
      env: { PYTHONUNBUFFERED: 1, WORKERS: Math.max(1, cpuCount - 1) },
    },
  ],

  deploy: {
    production: {
      user: 'deploy',
      host: ['shop-1.example.com'],
      ref: 'origin/main',
      repo: 'git@github.com:example/storefront.git',
      path: '/srv/storefront',
      'post-deploy': 'npm ci && npm run build && pm2 reload ecosystem.config.js --env production',
    },
  },
};
