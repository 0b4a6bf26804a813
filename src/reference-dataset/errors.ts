/**
 * A journal command the reference dataset does not execute: either a command it has no handler for
 * (a gap to close), or one of the few it cannot reproduce from the journal (`reason` says why, see
 * commands/unsupported.ts). Never something to skip silently.
 */
export class UnknownCommandError extends Error {
  readonly command: string;

  constructor(command: string, args: Buffer[], reason?: string) {
    const shown = args
      .slice(0, 6)
      .map((a) => a.toString('latin1').slice(0, 40))
      .join(' ');
    super(
      reason === undefined
        ? `the reference dataset does not implement ${command} (record: ${shown}); ` +
            'add it to src/reference-dataset/commands/'
        : `the reference dataset cannot execute ${command} (record: ${shown}): ${reason}`,
    );
    this.name = 'UnknownCommandError';
    this.command = command;
  }
}

/** A command that Dragonfly would refuse on this dataset (wrong type, bad argument). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}
