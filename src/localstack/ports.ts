import { createServer } from 'node:net';

/**
 * Ports handed out by this process. The kernel may give the same ephemeral port to two quick
 * listen(0) probes once the first probe has closed; remembering them keeps the broker's two listeners
 * and the Redis instances, which are all chosen before any of them binds, on distinct ports.
 */
const handedOut = new Set<number>();

/** A loopback TCP port that was free a moment ago and that this process has not handed out before. */
export async function freeLoopbackPort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
