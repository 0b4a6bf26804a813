import { parseCommand } from '../capture/resp';

/**
 * Server side of a replica connection: splits what the client sends into commands, incrementally.
 * Accepts RESP arrays of bulk strings and inline commands (`PING\r\n`, `REPLCONF ACK 106\r\n`), the
 * two forms a Dragonfly master accepts (spec 1.1). Bytes of an unfinished command are kept until the
 * rest arrives. Empty inline lines are skipped, as a Redis server does.
 */
export class CommandReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns every command completed by them (arguments as raw bytes). */
  feed(chunk: Buffer): Buffer[][] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const commands: Buffer[][] = [];
    let pos = 0;
    for (;;) {
      const parsed = parseCommand(this.pending, pos);
      if (!parsed) break;
      if (parsed.value.length > 0) commands.push(parsed.value);
      pos = parsed.end;
    }
    this.pending = this.pending.subarray(pos);
    return commands;
  }

  /** Bytes received that do not form a complete command yet. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Upper-cased command name plus subcommand (`REPLCONF CAPA`, `DFLY FLOW`, `PING`): what exchanges are matched by. */
export function commandKey(args: Buffer[]): string {
  const name = (args[0]?.toString('latin1') ?? '').toUpperCase();
  const withSubcommand = name === 'REPLCONF' || name === 'DFLY' || name === 'CLIENT' || name === 'CONFIG';
  return withSubcommand && args[1] ? `${name} ${args[1].toString('latin1').toUpperCase()}` : name;
}

/** The command as text, for logs and mismatch reports. */
export function commandLine(args: Buffer[]): string {
  return args.map((a) => a.toString('latin1')).join(' ');
}
