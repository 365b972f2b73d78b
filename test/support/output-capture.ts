import { vi } from 'vitest';

/**
 * Captures what the process writes on stdout and stderr (Powertools writes each log line with its
 * own `Console` there, warnings and errors on stderr), keeping it off the test output. `written`
 * grows as lines arrive; `restore()` puts both streams back.
 */
export function captureOutput(): { written: string[]; restore(): void } {
  const written: string[] = [];
  const capture = (chunk: unknown): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    written,
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
