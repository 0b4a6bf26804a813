import { randomBytes } from 'node:crypto';
import type { RdbValue } from '../protocol/types';

/**
 * The script of a ScriptedMaster, in a JSON-friendly form (the CLI reads it from a file): what the
 * master is, what it holds per shard, what it journals, and which faults it shows.
 */

export type ScriptValue =
  | { type: 'string'; value: string }
  | { type: 'list'; items: string[] }
  | { type: 'set'; members: string[] }
  | { type: 'hash'; fields: [string, string][] }
  | { type: 'zset'; entries: [string, number | 'inf' | '-inf'][] }
  | { type: 'json'; json: string };

export interface ScriptKey {
  key: string;
  db?: number;
  value: ScriptValue;
  /** absolute Unix ms */
  expireAtMs?: number;
}

/** A journaled command: its arguments (command name first), the db it ran in, its txid. */
export interface ScriptCommand {
  args: string[];
  db?: number;
  txid?: number;
}

export type CloseHow = 'rst' | 'fin';

export interface ScriptFaults {
  /** drop the session's connections part-way: in the RDB part of a flow, or after some stable records */
  disconnect?: {
    phase: 'rdb' | 'journal';
    flowId?: number;
    how: CloseHow;
    /** journal phase: stable records written before the cut (default: half the flow's script journal) */
    afterRecords?: number;
    /** how many sessions (from the first) get the fault; default 1, so the reconnect succeeds */
    sessions?: number;
  };
  /** force the DFLY FLOW answer per flow instead of the backlog rules */
  flowReplies?: ('FULL' | 'PARTIAL' | 'auto')[];
  /** answer these commands (matched by name and subcommand, e.g. "DFLY SYNC") with an error */
  errorReplies?: { command: string; reply: string; times?: number }[];
  /** flows whose bytes are trickled: `bytesPerWrite` every `intervalMs` */
  slowFlows?: { flowId: number; bytesPerWrite: number; intervalMs: number }[];
  /** flows that stop sending after `afterBytes` bytes of their stream */
  stalledFlows?: { flowId: number; afterBytes: number }[];
  /** accept connections and never answer */
  silent?: boolean;
  /** behave like a plain Redis master (answers +OK to REPLCONF capa dragonfly) */
  plainRedis?: boolean;
}

export interface MasterScript {
  masterId?: string;
  flowCount: number;
  /** DflyVersion integer in the capa reply (5 = v1.37+; the 5-element reply of v1.40 for >= 5) */
  version?: number;
  /** the release INFO server reports (default "df-v1.40.1") */
  dragonflyVersion?: string;
  user?: string;
  password?: string;
  /** keys per flow (shard) */
  dataset?: ScriptKey[][];
  /** records journaled during the first full sync, sent as JOURNAL_BLOBs, per flow */
  fullSyncJournal?: ScriptCommand[][];
  /** records journaled once stable sync starts, per flow */
  journal?: ScriptCommand[][];
  /** backlog ring length per shard (Dragonfly: 8192) */
  backlogLen?: number;
  faults?: ScriptFaults;
}

export class ScriptError extends Error {
  constructor(message: string) {
    super(`invalid test master script: ${message}`);
    this.name = 'ScriptError';
  }
}

export function checkScript(
  script: MasterScript,
): Required<Pick<MasterScript, 'masterId' | 'version' | 'backlogLen'>> {
  if (!Number.isInteger(script.flowCount) || script.flowCount < 1 || script.flowCount > 1024) {
    throw new ScriptError(`flowCount must be an integer in 1..1024, got ${String(script.flowCount)}`);
  }
  const masterId = script.masterId ?? randomBytes(20).toString('hex');
  if (!/^[0-9a-f]{40}$/.test(masterId)) throw new ScriptError(`masterId must be 40 lowercase hex characters`);
  for (const [name, perFlow] of [
    ['dataset', script.dataset],
    ['fullSyncJournal', script.fullSyncJournal],
    ['journal', script.journal],
  ] as const) {
    if (perFlow && perFlow.length > script.flowCount) {
      throw new ScriptError(`${name} has ${perFlow.length} flows, the master has ${script.flowCount}`);
    }
  }
  return { masterId, version: script.version ?? 5, backlogLen: script.backlogLen ?? 8192 };
}

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

export function toRdbValue(value: ScriptValue): RdbValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: buf(value.value) };
    case 'list':
      return { type: 'list', items: value.items.map(buf) };
    case 'set':
      return { type: 'set', members: value.members.map(buf) };
    case 'hash':
      return {
        type: 'hash',
        fields: value.fields.map(([field, v]) => ({ field: buf(field), value: buf(v) })),
      };
    case 'zset': {
      const score = (s: number | string): number =>
        s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
      const entries = value.entries.map(([member, s]) => ({ member: buf(member), score: score(s) }));
      return { type: 'zset', entries: entries.sort((a, b) => a.score - b.score) };
    }
    case 'json':
      return { type: 'json', json: buf(value.json) };
  }
}
