import path from 'path';
import { join as } from 'path';
export default { apps: [] };
