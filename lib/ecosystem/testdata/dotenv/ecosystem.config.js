const path = require('path');
const fs = require('fs');
const dotenv = require('dotenv');

// .env.local is optional: dotenv reports it missing without throwing.
const local = dotenv.config({ path: path.join(__dirname, '.env.local') });
// The first file wins for a key both define; the caller's environment wins over both.
dotenv.config({ path: [path.join(__dirname, '.env.production'), path.join(__dirname, '.env')] });
const extra = dotenv.parse(fs.readFileSync(path.join(__dirname, 'extra.env')));

module.exports = {
  apps: [
    {
      name: 'app',
      script: 'app.js',
      env: {
        LOCAL: local.error ? `missing (${local.error.code})` : 'loaded',
        API_KEY: process.env.API_KEY,
        HOST: process.env.HOST,
        CALLER: process.env.CALLER,
        ...extra,
      },
    },
  ],
};
