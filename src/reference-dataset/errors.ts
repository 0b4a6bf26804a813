/** A journal command the model does not implement: a gap to close, never something to skip silently. */
export class UnknownCommandError extends Error {
  readonly command: string;

  constructor(command: string, args: Buffer[]) {
    const shown = args
      .slice(0, 6)
      .map((a) => a.toString('latin1').slice(0, 40))
      .join(' ');
    super(
      `the reference dataset does not implement ${command} (record: ${shown}); add it to src/reference-dataset/commands/`,
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
