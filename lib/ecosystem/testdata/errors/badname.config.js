module.exports = {
  apps: [{ name: 'api/v2', script: 'api.js' }],
};
