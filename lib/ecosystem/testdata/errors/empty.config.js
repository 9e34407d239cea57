module.exports = { apps: [] };
