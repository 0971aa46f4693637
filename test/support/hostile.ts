// Arguments that break naive quoting. Each must reach a task's argv byte for byte.
export const HOSTILE_ARGS: string[] = [
  '', ' ', '  leading and trailing  ', 'plain', '--lr', '0.01', 'a b c', "single'quote", 'double"quote',
  "mixed'\"quotes", '$HOME', '${HOME}', '$(touch /tmp/pilot-pwned)', '`touch /tmp/pilot-pwned`', 'a;rm -rf /', 'x && y', 'a|b',
  'line1\nline2', '\n', 'tab\there', 'back\\slash', '\\', '*', '?', '[a-z]', '~', '~root', '!event', '#comment', '%s%d', '-',
  '--', '=', 'ключ=значение', '日本語', 'emoji 🚀', '\r\n', "'", '"', '>out.txt', '<in.txt', '2>&1', 'a\\nb', '{a,b}',
];
