/**
 * A configuration or usage problem: the CLI prints the message and exits with code 2.
 * The message names the option, what was given and what is accepted; `hint` says what to do next.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
