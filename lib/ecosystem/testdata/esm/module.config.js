import { join } from 'path'

export default [
  { name: 'ssr', script: join('.output', 'server', 'index.mjs'), port: 3000 },
  { name: 'queue', script: 'node_modules/.bin/graphile-worker', args: ['--crontab', 'crontab'] },
]
