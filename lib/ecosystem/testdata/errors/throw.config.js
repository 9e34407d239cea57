// Refuse to start without the secrets.
const required = ['DATABASE_URL', 'JWT_SECRET'];

for (const key of required) {
  if (!process.env[key]) {
    // Fail loudly rather than start a broken API.
    throw new Error(`${key} is required`);
  }
}

module.exports = { apps: [{ name: 'api', script: 'api.js' }] };
