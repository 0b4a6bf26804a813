/**
 * The one error type every parser throws for bad input. It always says where (flow, absolute byte
 * offset in that flow's stream), what was being read, and what was expected instead.
 */
export class ProtocolError extends Error {
  readonly offset: number;
  readonly item: string;
  readonly flowId: number | undefined;
  /** what should have been there (the message without its location) */
  readonly expected: string;

  constructor(details: { offset: number; item: string; expected: string; flowId?: number }) {
    const where = details.flowId === undefined ? '' : `flow ${details.flowId} `;
    super(`${where}at byte ${details.offset}: bad ${details.item}: ${details.expected}`);
    this.name = 'ProtocolError';
    this.offset = details.offset;
    this.item = details.item;
    this.flowId = details.flowId;
    this.expected = details.expected;
  }

  /** The same error attributed to a flow (parsers below the flow level do not know their flow). */
  withFlow(flowId: number): ProtocolError {
    if (this.flowId !== undefined) return this;
    return new ProtocolError({ offset: this.offset, item: this.item, expected: this.expected, flowId });
  }
}

/**
 * Thrown by a Cursor when the bytes it needs have not arrived yet. A single shared instance (no stack
 * capture, no allocation): parsers catch it, rewind to the start of the item and wait for more input.
 */
export const NEED_MORE: { readonly needMore: true } = Object.freeze({ needMore: true as const });

export function isNeedMore(e: unknown): e is typeof NEED_MORE {
  return e === NEED_MORE;
}
