const settings = require('./settings');
module.exports = { apps: [{ name: 'api', script: 'api.js', env: settings }] };
