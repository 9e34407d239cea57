const path = require('path');

const logs = path.join(__dirname, 'logs');

// Options every Node app of the shop shares.
exports.common = {
  autorestart: true,
  max_restarts: 10,
  min_uptime: 5000,
  source_map_support: true,
  vizion: false,
  env: {
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  },
};
exports.logs = logs;
