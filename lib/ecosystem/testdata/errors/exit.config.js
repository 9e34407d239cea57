if (!process.env.CI_TOKEN) {
  console.error('CI_TOKEN missing');
  process.exit(1);
}
module.exports = { apps: [] };
