/**
 * Stream values as typed writes, exact: entries with their ids (XADD), then XSETID with the last id,
 * entries-added counter and max deleted id, groups with XGROUP CREATE ... ENTRIESREAD, consumers
 * (XGROUP CREATECONSUMER) and each pending entry with its delivery time and count
 * (XCLAIM ... FORCE TIME RETRYCOUNT JUSTID). A value split into chunks repeats a group or consumer
 * cut in two at the start of the next chunk; StreamChunkState remembers what is open.
 */
import type { EventValueOf, StreamGroupValue } from '../../events/model';
import { command, type RedisCommand } from '../commands';

/** What the chunks of one stream value so far have opened (groups, consumers, pending times). */
export interface StreamChunkState {
  lastGroup: Buffer | null;
  lastConsumer: Buffer | null;
  /** pending entries of the open group: id → delivery time and count */
  pending: Map<string, { deliveryTimeMs: number; deliveryCount: number }>;
}

export function newStreamChunkState(): StreamChunkState {
  return { lastGroup: null, lastConsumer: null, pending: new Map() };
}

/** An empty stream needs an entry to exist: add one, trimmed away at once, before any real id. */
const PLACEHOLDER_ID = '0-1';

export function streamCommands(
  db: number,
  key: Buffer,
  value: EventValueOf<'StreamValue'>,
  chunk: { index: number; count: number },
  state: StreamChunkState,
  idOptions: boolean,
): RedisCommand[] {
  const out: RedisCommand[] = [];
  if (chunk.index === 0 && value.entries.length === 0) {
    // no entries in chunk 0 means none at all: entries come before groups in every split
    out.push(command(db, 'XADD', key, 'MAXLEN', 0, PLACEHOLDER_ID, 'f', 'v'));
  }
  for (const entry of value.entries) out.push(command(db, 'XADD', key, entry.id, ...entry.fields));
  if (chunk.index === chunk.count - 1) out.push(xsetid(db, key, value, idOptions));
  for (const group of value.groups) groupCommands(db, key, group, state, out);
  return out;
}

/** `idOptions`: the target's XSETID takes the counters (not Dragonfly's: the last id only). */
function xsetid(
  db: number,
  key: Buffer,
  value: EventValueOf<'StreamValue'>,
  idOptions: boolean,
): RedisCommand {
  const args: (Buffer | string | number)[] = [key, value.lastId];
  if (!idOptions) return command(db, 'XSETID', ...args);
  if (value.entriesAdded !== null) args.push('ENTRIESADDED', value.entriesAdded);
  if (value.maxDeletedId !== null) args.push('MAXDELETEDID', value.maxDeletedId);
  return command(db, 'XSETID', ...args);
}

function groupCommands(
  db: number,
  key: Buffer,
  group: StreamGroupValue,
  state: StreamChunkState,
  out: RedisCommand[],
): void {
  const continued = state.lastGroup !== null && state.lastGroup.equals(group.name);
  if (!continued) {
    const create: (Buffer | string | number)[] = [key, group.name, group.lastDeliveredId];
    if (group.entriesRead !== null) create.push('ENTRIESREAD', group.entriesRead);
    out.push(command(db, 'XGROUP', 'CREATE', ...create));
    state.lastGroup = group.name;
    state.lastConsumer = null;
    state.pending = new Map();
  }
  for (const p of group.pending) state.pending.set(p.id, p);
  for (const consumer of group.consumers) {
    const consumerContinued = state.lastConsumer !== null && state.lastConsumer.equals(consumer.name);
    if (!consumerContinued) {
      out.push(command(db, 'XGROUP', 'CREATECONSUMER', key, group.name, consumer.name));
      state.lastConsumer = consumer.name;
    }
    for (const id of consumer.pending) {
      const times = state.pending.get(id);
      const args: (Buffer | string | number)[] = [key, group.name, consumer.name, 0, id, 'FORCE'];
      if (times) args.push('TIME', times.deliveryTimeMs, 'RETRYCOUNT', times.deliveryCount);
      out.push(command(db, 'XCLAIM', ...args, 'JUSTID'));
    }
  }
}
