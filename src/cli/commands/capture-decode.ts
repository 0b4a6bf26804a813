/**
 * `dragonfly-cdc capture decode`: replays a recorded replication capture through the flow parsers and
 * the dataset model, and writes the master's dataset in the fixtures' expected.json format.
 */
import { writeFileSync } from 'node:fs';
import type { CliCommand } from '../command';
import { parseFlags, reportUsageError } from '../flags';
import { EXIT_CODES_TEXT } from '../help';
import { captureStartMs, CaptureDecodeError, decodeSessions, FlowParserFactory } from '../../capture/decode';
import { CaptureFormatError } from '../../capture/dfcap';
import { CaptureSessionError, readCaptureSessions } from '../../capture/session';
import { CommandError, UnknownCommandError } from '../../reference-dataset/errors';
import { toExpectedJson } from '../../reference-dataset/expected-json';
import { FlowBarrierError } from '../../reference-dataset/replay';
import { ProtocolError } from '../../protocol/errors';
import { FlowStreamParser } from '../../protocol/flow-parser';
import { decodeDumpPayload } from '../../protocol/rdb/dump';

export interface CaptureDecodeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now: () => number;
}

const processIo: CaptureDecodeIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => Date.now(),
};

const HELP = `Usage: dragonfly-cdc capture decode <session.dfcap[.gz]> --out <dataset.json> [options]

Splits the capture into replication sessions, parses every flow (snapshot and journal), applies them
to an in-memory dataset as a Dragonfly replica would (full sync = start empty, partial sync = go on,
FLUSHALL/FLUSHDB once every flow reached them), and writes the final dataset as expected.json:
{ "<db>": { "<key>": { "type", "expireAtMs", "value", "memberExpireAtMs"? } } }.

Options:
  --out PATH        where to write the dataset JSON ("-" = standard output)
  --at TIME         judge expiry at this time (ISO 8601 or Unix ms; default: now): keys and
                    members whose TTL has passed by then are left out
  --start-ms MS     Unix ms of capture time 0 (default: from the first full sync's AUX ctime);
                    relative TTLs in the journal (HSETEX, SADDEX) are evaluated against it

${EXIT_CODES_TEXT}`;

interface DecodeArgs {
  capture: string;
  out: string;
  atMs: number | null;
  startMs: number | null;
}

function parseTime(text: string, option: string): number | string {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(n) ? n : `${option} must be Unix milliseconds or an ISO 8601 time, got "${text}"`;
}

function parseDecodeArgs(argv: string[]): DecodeArgs | string {
  const parsed = parseFlags(argv, {
    options: { out: { type: 'string' }, at: { type: 'string' }, 'start-ms': { type: 'string' } },
    allowPositionals: true,
  });
  if (typeof parsed === 'string') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return `expected exactly one capture file, got ${positionals.length}`;
  if (!values.out) return '--out <dataset.json> is required';
  const atMs = values.at === undefined ? null : parseTime(values.at, '--at');
  const startMs = values['start-ms'] === undefined ? null : parseTime(values['start-ms'], '--start-ms');
  if (typeof atMs === 'string') return atMs;
  if (typeof startMs === 'string') return startMs;
  return { capture: positionals[0]!, out: values.out, atMs, startMs };
}

/** Errors that describe bad input (not a bug): reported as one line, exit code 1. */
const INPUT_ERRORS = [
  CaptureFormatError,
  CaptureSessionError,
  CaptureDecodeError,
  ProtocolError,
  UnknownCommandError,
  CommandError,
  FlowBarrierError,
];

const createParser: FlowParserFactory = (options) => new FlowStreamParser(options);

function decode(args: DecodeArgs, io: CaptureDecodeIo): string {
  const { sessions } = readCaptureSessions(args.capture);
  const startMs = args.startMs ?? captureStartMs(sessions, createParser);
  if (startMs === null) {
    throw new CaptureDecodeError(
      'the capture holds no full sync, so its absolute time is unknown; pass --start-ms <Unix ms of capture time 0>',
    );
  }
  const { dataset, outcomes } = decodeSessions(sessions, {
    createParser,
    decodeDump: decodeDumpPayload,
    startMs,
  });
  for (const o of outcomes) io.stderr(`${o.syncId}: ${o.kind} sync, ${o.items} items, ${o.result}\n`);
  const databases = [...dataset.dbs.values()].filter((keys) => keys.size > 0).length;
  io.stderr(`${dataset.size} keys in ${databases} databases\n`);
  return `${JSON.stringify(toExpectedJson(dataset, args.atMs ?? io.now()))}\n`;
}

export function createCaptureDecodeCommand(io: CaptureDecodeIo = processIo): CliCommand {
  return {
    name: 'capture decode',
    summary: 'decode a recorded replication capture into the master dataset (expected.json format)',
    help: () => HELP,
    async run(argv) {
      const args = parseDecodeArgs(argv);
      if (typeof args === 'string') return reportUsageError('capture decode', args, io.stderr);
      let json: string;
      try {
        json = decode(args, io);
      } catch (err) {
        if (!INPUT_ERRORS.some((kind) => err instanceof kind)) throw err;
        const message = (err as Error).message;
        const where = message.includes(args.capture) ? '' : `${args.capture}: `;
        io.stderr(`dragonfly-cdc capture decode: ${where}${message}\n`);
        return 1;
      }
      if (args.out === '-') {
        io.stdout(json);
        return 0;
      }
      try {
        writeFileSync(args.out, json);
      } catch (err) {
        io.stderr(`dragonfly-cdc capture decode: cannot write ${args.out}: ${(err as Error).message}\n`);
        return 1;
      }
      return 0;
    },
  };
}

export const captureDecodeCommand = createCaptureDecodeCommand();
