// Named exports only: PM2 reads the apps of the module namespace.
const env = process.env.APP_ENV ?? 'dev';

export const apps = [
  {
    name: 'bot',
    script: 'bot.js',
    env: { APP_ENV: env, STARTED_BY: 'pm2' },
  },
];

export const deploy = {};
