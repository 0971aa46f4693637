/**
 * The zod schema of config.yaml, apart from config-schema.ts so that zod is imported statically here (the
 * bundle keeps only the parts of zod in use; a dynamic `import('zod')` would keep all of it) and loaded only
 * when a config file is read.
 */
import * as z from 'zod';

export function configSchema() {
  // YAML `null` and a missing key mean the same: not set
  const unset = <T>(v: T | null | undefined) => v ?? undefined;
  const nullable = (t: z.ZodString) => t.nullish().transform(unset);
  const pathList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).nullish()
    .transform((v) => (v == null ? undefined : typeof v === 'string' ? [v] : v));
  const cluster = z.object({
    sshAlias: nullable(z.string().min(1).regex(/^[^-\s]\S*$/, 'an ssh host alias: no spaces, not starting with -')),
    host: nullable(z.string().min(1)),
    port: z.number().int().min(1).max(65535).nullish().transform(unset),
    user: nullable(z.string().min(1)),
    identityFile: pathList,
    knownHosts: pathList,
    proxyJump: nullable(z.string().min(1)),
    strictHostKeyChecking: z.enum(['yes', 'accept-new', 'ask']).nullish().transform(unset),
    remoteDir: z.string().default('~/pilot'),
    partition: nullable(z.string()),
    account: nullable(z.string()),
    maxArraySize: z.number().int().min(2).optional(),
    transport: z.enum(['ssh2', 'openssh']).default('ssh2'),
  }).strict().refine((c) => c.host !== undefined || c.sshAlias !== undefined, { message: 'needs `host` or `sshAlias`' });
  return z.object({ clusters: z.record(z.string(), cluster).default({}) }).passthrough();
}
