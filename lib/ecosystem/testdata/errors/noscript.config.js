module.exports = {
  apps: [
    { name: 'api', script: 'api.js' },
    { name: 'worker', args: '--queue default' },
  ],
};
