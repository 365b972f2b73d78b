/**
 * A CodePipeline service error: `name` is the wire `__type` the SDK maps to its exception class
 * (e.g. `InvalidApprovalTokenException`), so the emulator can throw it anywhere and the server
 * turns it into the HTTP 400 JSON body CodePipeline sends.
 */
export class CodePipelineError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export const validationError = (message: string) => new CodePipelineError('ValidationException', message);

/** Names of pipelines, stages and actions: what CodePipeline accepts (1–100 of `[A-Za-z0-9.@\-_]`). */
const NAME = /^[A-Za-z0-9.@\-_]{1,100}$/;

/**
 * Validates a required name the way CodePipeline words it, so adapters that surface the message
 * show what a real account would.
 */
export function requireName(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw validationError(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!NAME.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+ and length between 1 and 100`,
    );
  }
  return value;
}

export const isValidName = (value: string) => NAME.test(value);
