import * as net from 'node:net';
import { ClientConnection, type ConnectionHandlers } from './client-connection';

export interface ListenOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** 0 or unset = any free port */
  port?: number;
}

/**
 * The listening side both test masters share: every accepted socket becomes a ClientConnection (kept
 * in `connections`, numbered in accept order) whose commands go to the master's handlers.
 */
export class MasterServer {
  readonly connections: ClientConnection[] = [];
  private readonly server: net.Server;

  constructor(
    private readonly listen: ListenOptions,
    handlers: ConnectionHandlers,
  ) {
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.setNoDelay(true);
      this.connections.push(new ClientConnection(this.connections.length, socket, handlers));
    });
  }

  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.listen.port ?? 0, this.listen.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve({ port: (this.server.address() as net.AddressInfo).port });
      });
    });
  }

  /** Stops listening and destroys every connection; resolves once the server is closed. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  /** ACK values received on flow `flowId` (of the session with this sync id, else of every session). */
  ackValues(flowId: number, syncId?: string): number[] {
    return this.connections
      .filter(
        (c) => c.role === 'flow' && c.flowId === flowId && (syncId === undefined || c.session === syncId),
      )
      .flatMap((c) => c.ackValues());
  }
}
