// ES module config, as in a "type": "module" project.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { cpus } from 'os';
import 'dotenv/config';
import { base, withPort as port } from './shared.mjs';

const require = createRequire(import.meta.url);
const __filename = fileURLToPath(import.meta.url);
const __dirname = path.dirname(__filename);
const pkg = require('./package.json');

class App {
  #defaults = { autorestart: true };
  constructor(name, script, extra = {}) {
    Object.assign(this, this.#defaults, base, { name, script }, extra);
  }
}

export default {
  apps: [
    new App(`${pkg.name}-web`, path.join(__dirname, 'build/index.js'), {
      instances: cpus().length,
      env: { ...port(3000), VERSION: pkg.version, SECRET: process.env.SESSION_SECRET },
    }),
    new App('scheduler', './build/scheduler.js', {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { TZ: 'UTC', DIR: import.meta.dirname },
    }),
  ],
};
