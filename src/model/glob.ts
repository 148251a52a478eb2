/** App patterns (tokens file, notification subscriptions): `*` matches any run of characters, `?` exactly one; everything else is literal. */

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

export function matchesGlob(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

/** One predicate for a list of globs: true when any of them matches. */
export function compileGlobs(globs: string[]): (value: string) => boolean {
  const patterns = globs.map(globToRegExp);
  return (value) => patterns.some((pattern) => pattern.test(value));
}
