import type * as net from 'node:net';
import { CommandReader } from '../protocol/resp-commands';
import { commandKey } from './command-key';

/** How a client connection ended: the client's FIN, the client's RST, or closed by the test master. */
export type CloseKind = 'fin' | 'rst' | 'master';

export type ConnectionRole = 'unknown' | 'main' | 'flow';

export interface ReceivedCommand {
  args: Buffer[];
  atMs: number;
}

export interface ConnectionHandlers {
  onCommand: (conn: ClientConnection, args: Buffer[]) => void;
  /** the client ended or reset the connection (called once) */
  onClientGone: (conn: ClientConnection) => void;
}

/**
 * One connection a replica opened to a test master: splits its bytes into commands, keeps all of them
 * (so tests can check what the client sent, e.g. its ACK values), and tells how it was closed. A socket
 * that reported 'end' (the client's FIN) before 'close' was closed gracefully; ECONNRESET is an RST.
 */
export class ClientConnection {
  role: ConnectionRole = 'unknown';
  flowId: number | null = null;
  /** the sync id of the session this connection belongs to, once known */
  session: string | null = null;
  readonly commands: ReceivedCommand[] = [];
  readonly closed: Promise<CloseKind>;
  private closeKindValue: CloseKind | null = null;
  private clientEnded = false;
  private clientReset = false;
  private closedByMaster = false;
  private readonly reader = new CommandReader();

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    handlers: ConnectionHandlers,
  ) {
    let gone = false;
    const clientGone = (): void => {
      if (gone || this.closedByMaster) return;
      gone = true;
      handlers.onClientGone(this);
    };
    socket.on('data', (chunk: Buffer) => {
      let commands: Buffer[][];
      try {
        commands = this.reader.feed(chunk);
      } catch (e) {
        socket.write(`-ERR Protocol error: ${(e as Error).message}\r\n`);
        this.resetByMaster();
        return;
      }
      for (const args of commands) {
        this.commands.push({ args, atMs: Date.now() });
        handlers.onCommand(this, args);
      }
    });
    socket.on('end', () => {
      this.clientEnded = true;
      clientGone();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.clientReset = true;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        clientGone();
        const kind: CloseKind = this.clientReset ? 'rst' : this.clientEnded ? 'fin' : 'master';
        this.closeKindValue = kind;
        resolve(kind);
      });
    });
  }

  /** null while open */
  get closeKind(): CloseKind | null {
    return this.closeKindValue;
  }

  get isOpen(): boolean {
    return !this.socket.destroyed;
  }

  /** The values of every `REPLCONF ACK <n>` received, in order. */
  ackValues(): number[] {
    return this.commands
      .filter((c) => commandKey(c.args) === 'REPLCONF ACK')
      .map((c) => Number(c.args[2]?.toString('latin1')));
  }

  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** FIN from the master's side (a graceful close, like Dragonfly's shutdown of a cancelled flow). */
  endByMaster(): void {
    this.closedByMaster = true;
    if (!this.socket.destroyed) this.socket.end();
  }

  /** An RST-like close: unsent data is dropped and the peer sees ECONNRESET. */
  resetByMaster(): void {
    this.closedByMaster = true;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  /** Resolves once everything written so far was handed to the kernel. */
  flushed(): Promise<void> {
    if (this.socket.destroyed || this.socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(Buffer.alloc(0), () => resolve()));
  }
}
