/**
 * Errors talking to a Confluent-compatible Schema Registry. Each names the registry (and the subject
 * when there is one), says what happened and what to do (`hint`).
 */
export type SchemaRegistryProblem =
  /** no connection, a timeout, or a 5xx: worth retrying */
  | 'unavailable'
  /** 401/403: the credentials are wrong or lack a permission */
  | 'unauthorized'
  /** the registry refused a schema as incompatible with the subject's versions */
  | 'incompatible'
  /** any other answer this client cannot use */
  | 'rejected';

export class SchemaRegistryError extends Error {
  readonly problem: SchemaRegistryProblem;
  readonly what: string;
  readonly hint: string;

  constructor(problem: SchemaRegistryProblem, what: string, hint: string, options?: ErrorOptions) {
    super(`${what}. ${hint}`, options);
    this.name = 'SchemaRegistryError';
    this.problem = problem;
    this.what = what;
    this.hint = hint;
  }

  /** Worth asking again later: the registry may come back; the message itself is not at fault. */
  get transient(): boolean {
    return this.problem === 'unavailable';
  }
}
