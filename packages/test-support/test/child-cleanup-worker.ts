// Started by child-cleanup.test.ts: starts a memcached, prints its port, waits.
import { startMemcached } from '../src/memcached-server.js';

const server = await startMemcached();
process.stdout.write(`${server.port}\n`);
setInterval(() => undefined, 1000);
