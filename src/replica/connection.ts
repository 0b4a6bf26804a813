import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeCommand, RespError, RespReader, type RespValue } from '../protocol/resp';
import { describeMaster, type MasterAddress } from './master-address';
import { ReplicationError } from './errors';

export interface ConnectOptions {
  connectTimeoutMs: number;
  /** TCP keepalive initial delay: the only liveness signal on an idle master (spec 5.3) */
  keepAliveMs: number;
  /** how long a handshake or phase command may wait for its reply (a master that never answers) */
  replyTimeoutMs?: number;
  /** passed to node:tls when the address says TLS */
  tlsOptions?: tls.ConnectionOptions;
}

/** Default bound on a command reply during the handshake and phase changes. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

/** Opens one TCP (or TLS) connection to the master, with keepalive and no read timeout. */
export function openSocket(address: MasterAddress, options: ConnectOptions): Promise<net.Socket> {
  const master = describeMaster(address);
  return new Promise((resolve, reject) => {
    const socket = address.tls
      ? tls.connect({
          host: address.host,
          port: address.port,
          servername: address.host,
          ...options.tlsOptions,
        })
      : net.connect({ host: address.host, port: address.port });
    const readyEvent = address.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ReplicationError({
          master,
          message: `connect timed out after ${options.connectTimeoutMs} ms`,
          hint: 'check the address and that the master is reachable',
        }),
      );
    }, options.connectTimeoutMs);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, options.keepAliveMs);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new ReplicationError({
          master,
          message: `cannot connect: ${err.code ?? err.message}`,
          hint: err.code === 'ECONNREFUSED' ? 'is Dragonfly running and listening on that port?' : undefined,
        }),
      );
    });
  });
}

/**
 * Request/reply over a socket during the handshake. Replies are matched to requests in order.
 * `release()` hands the socket and any bytes already received after the last reply to the caller
 * (on a flow connection the RDB stream follows the DFLY FLOW reply without a pause).
 */
export class CommandChannel {
  private readonly reader = new RespReader();
  private readonly waiting: {
    command: string;
    resolve: (v: RespValue) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  }[] = [];
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.reader.feed(chunk);
    this.drain();
  };
  private readonly onClose = (): void => this.fail('connection closed by the master');
  private readonly onError = (err: Error): void => this.fail(`connection error: ${err.message}`);

  constructor(
    readonly socket: net.Socket,
    private readonly master: string,
    private readonly replyTimeoutMs: number,
    private readonly flowId?: number,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  /** Sends one command (as a RESP array) and resolves with its reply; error replies resolve too. */
  call(args: (string | Buffer | number)[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    const command = args
      .slice(0, 2)
      .map((a) => String(a))
      .join(' ');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(`no reply to ${command} within ${this.replyTimeoutMs} ms`),
        this.replyTimeoutMs,
      );
      this.waiting.push({ command, resolve, reject, timer });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Like call, but an error reply becomes a ReplicationError. */
  async expectOk(args: (string | Buffer | number)[], hint?: string): Promise<RespValue> {
    const reply = await this.call(args);
    if (reply instanceof RespError) {
      throw new ReplicationError({
        master: this.master,
        flowId: this.flowId,
        message: `${String(args[0])} ${String(args[1] ?? '')} failed: ${reply.message}`.replace(
          /\s+failed/,
          ' failed',
        ),
        hint,
      });
    }
    return reply;
  }

  release(): { socket: net.Socket; rest: Buffer } {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    return { socket: this.socket, rest: this.reader.takeRest() };
  }

  private drain(): void {
    for (;;) {
      const waiter = this.waiting[0];
      if (!waiter) return;
      let reply: RespValue | undefined;
      try {
        reply = this.reader.next();
      } catch (e) {
        this.fail(`unreadable reply: ${(e as Error).message}`);
        return;
      }
      if (reply === undefined) return;
      this.waiting.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(reply);
    }
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new ReplicationError({ master: this.master, flowId: this.flowId, message });
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }
}

/**
 * Half-closes (FIN), keeps reading until the master closes its side, then destroys; bounded by
 * `deadline` (epoch ms). Never an RST while the master may still be writing (spec 7.2).
 * `discardData`: nobody else reads this socket any more, so drain it here.
 */
export function closeGracefully(socket: net.Socket, deadline: number, discardData: boolean): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        socket.destroy();
        resolve();
      },
      Math.max(0, deadline - Date.now()),
    );
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (discardData) socket.on('data', () => undefined);
    socket.once('end', () => socket.destroy());
    socket.end();
  });
}
