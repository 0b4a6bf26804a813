import { createWriteStream } from 'node:fs';
import * as net from 'node:net';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { CaptureDirection, DFCAP_MAGIC, encodeCaptureRecord } from './dfcap';

/**
 * A recording TCP proxy: listens on loopback, forwards every connection to the upstream master, and
 * writes every byte both ways to a `.dfcap` file (gzip when the name ends in `.gz`). Connections are
 * numbered in accept order; each gets an "opened" record, its payload records exactly as read() returned
 * them, and a "closed" record once both directions are done. FIN is forwarded as FIN and a reset as a
 * reset, so the master and the replica see each other's way of closing.
 */

export interface RecorderOptions {
  upstream: { host: string; port: number };
  /** path of the capture to write */
  out: string;
  /** loopback port to listen on; 0 = any free one */
  listenPort?: number;
}

export class RecorderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecorderError';
  }
}

export class CaptureRecorder {
  private readonly server: net.Server;
  private readonly file: Writable;
  private readonly fileDone: Promise<void>;
  private readonly sockets = new Set<net.Socket>();
  private readonly startedAt = process.hrtime.bigint();
  private connections = 0;
  private recordCount = 0;

  constructor(private readonly options: RecorderOptions) {
    const raw = createWriteStream(options.out);
    this.fileDone = new Promise((resolve, reject) => {
      raw.on('finish', () => resolve());
      raw.on('error', (err) => reject(new RecorderError(`cannot write ${options.out}: ${err.message}`)));
    });
    this.fileDone.catch(() => undefined);
    if (options.out.endsWith('.gz')) {
      const gzip = createGzip();
      gzip.pipe(raw);
      this.file = gzip;
    } else {
      this.file = raw;
    }
    this.file.write(DFCAP_MAGIC);
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Connections accepted so far. */
  get connectionCount(): number {
    return this.connections;
  }

  get records(): number {
    return this.recordCount;
  }

  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err) =>
        reject(
          new RecorderError(`cannot listen on 127.0.0.1:${this.options.listenPort ?? 0}: ${err.message}`),
        ),
      );
      this.server.listen(this.options.listenPort ?? 0, '127.0.0.1', () => {
        resolve({ port: (this.server.address() as net.AddressInfo).port });
      });
    });
  }

  /** Stops accepting, closes what is still open (FIN both ways) and finishes the file. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.end();
    const deadline = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, 2000);
    await closed;
    clearTimeout(deadline);
    this.file.end();
    await this.fileDone;
  }

  private record(direction: CaptureDirection, connection: number, payload: Buffer): void {
    const micros = Number((process.hrtime.bigint() - this.startedAt) / 1000n);
    this.file.write(encodeCaptureRecord({ direction, connection, micros, payload }));
    this.recordCount++;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: net.Socket): void {
    const index = this.connections++;
    this.record(CaptureDirection.Opened, index, Buffer.alloc(0));
    const upstream = net.connect({ ...this.options.upstream, allowHalfOpen: true });
    this.track(client);
    this.track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let open = 2;
    const closedOne = (): void => {
      if (--open === 0) this.record(CaptureDirection.Closed, index, Buffer.alloc(0));
    };
    const pipe = (from: net.Socket, to: net.Socket, direction: CaptureDirection): void => {
      from.on('data', (chunk: Buffer) => {
        this.record(direction, index, chunk);
        to.write(chunk);
      });
      from.on('end', () => to.end());
      from.on('error', (err: NodeJS.ErrnoException) => {
        if (to.destroyed) return;
        if (err.code === 'ECONNRESET' && !to.connecting) to.resetAndDestroy();
        else to.destroy();
      });
      from.on('close', closedOne);
    };
    pipe(client, upstream, CaptureDirection.ReplicaToMaster);
    pipe(upstream, client, CaptureDirection.MasterToReplica);
  }
}
