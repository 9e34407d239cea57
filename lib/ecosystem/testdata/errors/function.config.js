module.exports = (env) => ({ apps: [{ name: 'api', script: 'api.js' }] });
