module.exports = {
  apps: [
    {
      name: 'api',
      script: 'api.js'
    }
    {
      name: 'worker',
      script: 'worker.js',
    },
  ],
};
