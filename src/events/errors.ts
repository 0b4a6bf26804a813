/**
 * Errors of the event layer. Each says what was found and what the user can do about it (`hint`).
 */
export class EventError extends Error {
  readonly what: string;
  readonly hint: string;

  constructor(what: string, hint: string) {
    super(`${what}. ${hint}`);
    this.name = new.target.name;
    this.what = what;
    this.hint = hint;
  }
}

/** A message does not start with the header of the configured wire format. */
export class WireFormatError extends EventError {}

/** A message names a writer schema (fingerprint or registry id) this process does not know. */
export class UnknownSchemaError extends EventError {
  readonly schemaRef: string;

  constructor(schemaRef: string, what: string, hint: string) {
    super(what, hint);
    this.schemaRef = schemaRef;
  }
}

/** Chunk events of a split value arrived with a gap, out of order, or interleaved. */
export class ChunkSequenceError extends EventError {
  readonly flow: number;

  constructor(flow: number, what: string, hint: string) {
    super(`flow ${flow}: ${what}`, hint);
    this.flow = flow;
  }
}

/** A single element (list item, argument, ...) cannot fit in one event of the configured size. */
export class EventTooLargeError extends EventError {}
