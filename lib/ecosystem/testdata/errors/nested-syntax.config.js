const broken = require('./broken.js');
module.exports = { apps: [{ name: 'api', script: 'api.js' }] };
