import type { ZodError } from 'zod';

/** One readable line per problem: `args[3]: expected string, received number`. */
export function formatZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>((acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part), '');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}
