const path = require('path');
const { getPort } = require('get-port-please');

module.exports = { apps: [{ name: 'api', script: path.join(__dirname, 'api.js') }] };
