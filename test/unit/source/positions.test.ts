import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { EventCodec } from '../../../src/events/codec';
import { decodeTails, TopicStateError } from '../../../src/source/positions';

test('unreadable events at a partition tail are refused with where and what to do', async () => {
  const codec = await EventCodec.create();
  const someoneElses = Buffer.from('{"not":"a change event"}');
  await assert.rejects(
    decodeTails([null, { partition: 1, offset: 41, key: null, value: someoneElses }], codec, 'changes'),
    (e: unknown) =>
      e instanceof TopicStateError &&
      /topic "changes" partition 1 offset 41: the last event cannot be read as a change event/.test(
        e.message,
      ) &&
      /Use a new topic/.test(e.message),
  );
  // the right magic but a schema fingerprint nobody released (a schema mismatch)
  const unknownSchema = Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), Buffer.from([0])]);
  await assert.rejects(
    decodeTails([{ partition: 0, offset: 7, key: null, value: unknownSchema }], codec, 'changes'),
    (e: unknown) => e instanceof TopicStateError && /partition 0 offset 7/.test(e.message),
  );
  await assert.rejects(
    decodeTails([{ partition: 0, offset: 3, key: null, value: null }], codec, 'changes'),
    /holds a message without a value, not a change event/,
  );
});
