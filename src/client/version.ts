/** brig's own version, read once from the package.json above this module (dist/ or src/ alike). */
import { readFileSync } from 'node:fs';

function findVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; ) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'brig' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json at this level; keep walking up
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) return 'dev';
    dir = parent;
  }
}

export const CLIENT_VERSION: string = findVersion();

/** The API version the client speaks; brig's daemon claims 1.41 and up. */
export const DEFAULT_API_VERSION = '1.41';
