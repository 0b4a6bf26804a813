/**
 * `dragonfly-cdc test-master`: a stand-in for a Dragonfly master on 127.0.0.1, for trying the source
 * without a Dragonfly binary. Replays a recorded capture (--capture) or plays a scripted master
 * (--script, JSON in the form of src/testmaster/script.ts). Runs until Ctrl+C.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliCommand } from '../command';
import { parseFlags, reportUsageError } from '../flags';
import { EXIT_CODES_TEXT } from '../help';
import { CaptureFormatError } from '../../capture/dfcap';
import { CaptureSessionError } from '../../capture/session';
import { ReplayMaster } from '../../testmaster/replay-master';
import { ScriptedMaster } from '../../testmaster/scripted-master';
import { ScriptError, type MasterScript } from '../../testmaster/script';

const HELP = `Usage: dragonfly-cdc test-master (--capture <session.dfcap[.gz]> | --script <master.json>) [options]

Listens on 127.0.0.1 and acts as a Dragonfly v1.40 master until Ctrl+C:
  --capture   replays the recorded replication sessions of a capture byte for byte (replies on the
              main connection, flow bytes in the recorded order); a replica that deviates from the
              recorded one is reported on standard error; INFO server is answered with the
              dragonflyVersion of a meta.json beside the capture (the recorded fixtures have one)
  --script    a master built from a JSON script: { "flowCount": 2, "dataset": [[{ "key": "a",
              "value": { "type": "string", "value": "x" } }], []], "journal": [[{ "args": ["SET",
              "a", "y"] }], []], "password": "...", "faults": { ... } } (see src/testmaster/script.ts)

Options:
  --port N    port to listen on (default: any free port; the chosen one is printed)
  --speed F   --capture only: keep the recorded gaps between flow chunks, divided by F

${EXIT_CODES_TEXT}`;

interface TestMasterArgs {
  capture: string | null;
  script: string | null;
  port: number;
  speed: number | undefined;
}

function parseTestMasterArgs(argv: string[]): TestMasterArgs | string {
  const parsed = parseFlags(argv, {
    options: {
      capture: { type: 'string' },
      script: { type: 'string' },
      port: { type: 'string' },
      speed: { type: 'string' },
    },
  });
  if (typeof parsed === 'string') return parsed;
  const { values } = parsed;
  if (!values.capture === !values.script) return 'give exactly one of --capture <file> and --script <file>';
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return `--port must be 0..65535, got "${values.port}"`;
  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (speed !== undefined && !(speed > 0)) return `--speed must be a positive number, got "${values.speed}"`;
  return { capture: values.capture ?? null, script: values.script ?? null, port, speed };
}

function readScript(path: string): MasterScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScriptError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as MasterScript;
  } catch (err) {
    throw new ScriptError(`${path} is not JSON: ${(err as Error).message}`);
  }
}

/** The release a fixture's meta.json (next to its capture) names, for answering INFO server. */
function recordedVersion(capturePath: string): string | undefined {
  const metaPath = join(dirname(capturePath), 'meta.json');
  if (!existsSync(metaPath)) return undefined;
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { dragonflyVersion?: unknown };
  return typeof meta.dragonflyVersion === 'string' ? meta.dragonflyVersion : undefined;
}

function waitForInterrupt(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function serve(args: TestMasterArgs, log: (line: string) => void): Promise<void> {
  const listen = { host: '127.0.0.1', port: args.port };
  if (args.capture) {
    const master = new ReplayMaster({
      capturePath: args.capture,
      ...listen,
      speed: args.speed,
      dragonflyVersion: recordedVersion(args.capture),
    });
    const { port } = await master.start();
    log(`listening on 127.0.0.1:${port} (replaying sessions ${master.sessionIds.join(', ')})`);
    let reported = 0;
    const timer = setInterval(() => {
      for (const m of master.mismatches.slice(reported)) {
        log(`mismatch: ${m.session ?? '?'} connection ${m.connection} (${m.role}): ${m.message}`);
      }
      reported = master.mismatches.length;
    }, 200);
    await waitForInterrupt();
    clearInterval(timer);
    await master.stop();
    return;
  }
  const master = new ScriptedMaster(readScript(args.script!), listen);
  const { port } = await master.start();
  log(`listening on 127.0.0.1:${port} (scripted master ${master.masterId})`);
  await waitForInterrupt();
  await master.stop();
}

export const testMasterCommand: CliCommand = {
  name: 'test-master',
  summary: 'act as a Dragonfly master from a recorded capture or a script (for trying the source)',
  help: () => HELP,
  async run(argv) {
    const args = parseTestMasterArgs(argv);
    if (typeof args === 'string') {
      return reportUsageError('test-master', args, (text) => process.stderr.write(text));
    }
    try {
      await serve(args, (line) => process.stdout.write(`${line}\n`));
      return 0;
    } catch (err) {
      if (!(
        err instanceof ScriptError ||
        err instanceof CaptureFormatError ||
        err instanceof CaptureSessionError
      )) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
        process.stderr.write(
          `dragonfly-cdc test-master: cannot listen on port ${args.port}: ${code} (pick another --port)\n`,
        );
        return 1;
      }
      process.stderr.write(`dragonfly-cdc test-master: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
