import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: handlers, manifest.yml and package-lock.json are found from here. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export const repoPath = (...segments: string[]): string => join(REPO_ROOT, ...segments);
