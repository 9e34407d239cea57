const apps = [{ name: 'api', script: 'api.js' }];
// forgot module.exports
