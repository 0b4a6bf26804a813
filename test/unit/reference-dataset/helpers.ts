import { Dataset } from '../../../src/reference-dataset/dataset';
import { decodeDumpPayload } from '../../../src/protocol/rdb/dump';
import { ExpectedKey, toExpectedJson } from '../../../src/reference-dataset/expected-json';

export const NOW = 1_800_000_000_000;

export function newDataset(): Dataset {
  return new Dataset({ decodeDump: decodeDumpPayload });
}

/** Runs space-separated commands in db 0 (or `db`) at time NOW. */
export function run(ds: Dataset, ...commands: string[]): Dataset {
  for (const c of commands)
    ds.applyCommand(
      0,
      c.split(' ').map((a) => Buffer.from(a)),
      NOW,
    );
  return ds;
}

/** The expected.json view of one key in db 0 at NOW. */
export function keyOf(ds: Dataset, key: string, db = 0): ExpectedKey | undefined {
  return toExpectedJson(ds, NOW)[String(db)]?.[key];
}

export function valueOf(ds: Dataset, key: string): unknown {
  return keyOf(ds, key)?.value;
}
