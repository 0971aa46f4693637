import type { ZodError } from 'zod';

/** How many problems are spelled out; a list of 10 000 bad tasks must not print 10 000 lines. */
const SHOWN = 5;

/**
 * One readable line per problem: `args[3]: expected string, received number`; past SHOWN problems, how many
 * more there are.
 */
export function formatZodError(error: ZodError): string {
  const lines = error.issues.slice(0, SHOWN).map((issue) => {
    const path = issue.path.reduce<string>((acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part), '');
    return `${path || '(root)'}: ${issue.message}`;
  });
  const more = error.issues.length - SHOWN;
  return lines.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
}
