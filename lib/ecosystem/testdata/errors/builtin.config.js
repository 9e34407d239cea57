const { execSync } = require('child_process');
const rev = execSync('git rev-parse --short HEAD').toString().trim();
module.exports = { apps: [{ name: `api-${rev}`, script: 'api.js' }] };
