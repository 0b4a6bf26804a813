import * as net from 'node:net';

/**
 * A scripted replica for test-master tests: sends raw command lines and collects every byte received,
 * so tests can check exactly what the master wrote and when.
 */
export class RawClient {
  received: Buffer = Buffer.alloc(0);
  ended = false;
  error: NodeJS.ErrnoException | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    socket.on('close', () => this.wake());
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `done()` holds (checked after every event), failing after `timeoutMs`. */
  async until(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${this.received.length} bytes`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a command and waits until `reply` was received after everything received before it. */
  async call(line: string, reply: string): Promise<void> {
    const before = this.received.length;
    this.send(line);
    await this.until(`reply to ${line}`, () => this.received.subarray(before).includes(reply));
  }

  closedByPeer(): Promise<void> {
    return this.until('the master to close the connection', () => this.socket.destroyed || this.ended);
  }
}
