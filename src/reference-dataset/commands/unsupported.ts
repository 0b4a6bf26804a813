/**
 * Journaled commands of Dragonfly v1.40.1 that the reference dataset cannot reproduce from the
 * journal, and why. A record of one of these fails with UnknownCommandError naming the reason; the
 * same list is in docs/reference-dataset.md.
 */
export const UNSUPPORTED_COMMANDS: ReadonlyMap<string, string> = new Map([
  [
    'CL.THROTTLE',
    "the stored value is the master's clock in nanoseconds at execution, which the journal does not carry " +
      '(Dragonfly journals the command verbatim, so its own replica diverges too)',
  ],
  [
    'DFLYCLUSTER',
    'cluster slot management (FLUSHSLOTS) needs the slot ownership of the master, which a replication stream ' +
      'of a non-cluster master never carries; cluster mode is not supported',
  ],
]);
