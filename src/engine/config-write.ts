/**
 * Adding a cluster to `$PILOT_HOME/config.yaml` (`pilot add-cluster`, SlurmWrapper.addCluster): the file is
 * edited as a YAML document, so the user's comments and order survive, written atomically, and checked by
 * the same loader every command uses; an entry that does not load is taken back out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { makeDirs, writeFileAtomic } from '../util/files.js';
import { loadConfigFile } from './config.js';

/** The fields of one cluster entry as config.yaml spells them. */
export type ClusterEntry = Record<string, string | number | string[] | undefined>;

export async function addClusterEntry(home: string, name: string, entry: ClusterEntry, options: { force?: boolean } = {}): Promise<string> {
  if (name === 'local') throw new PilotError('BAD_INPUT', "the cluster name 'local' is reserved for the built-in local backend", { hint: 'choose another name' });
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new PilotError('BAD_INPUT', `cluster name ${JSON.stringify(name)} is not allowed`, { hint: 'use letters, digits, . _ - (starting with a letter or digit)' });
  }
  const file = join(home, 'config.yaml');
  const before = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new PilotError('CONFIG', `cannot read ${file}: ${err.message}`, { cause: err });
  });
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(before);
  if (doc.errors.length) throw new PilotError('CONFIG', `${file} is not valid YAML: ${doc.errors[0]!.message}`, { hint: 'fix it first; pilot add-cluster edits it in place' });
  if (doc.hasIn(['clusters', name]) && !options.force) {
    throw new PilotError('EXISTS', `cluster '${name}' is already in ${file}`, { hint: 'choose another name, or pass --force to replace it' });
  }
  const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined && v !== ''));
  if (!doc.contents) doc.contents = doc.createNode({}) as never;
  doc.setIn(['clusters', name], doc.createNode(clean));
  await makeDirs(home);
  await writeFileAtomic(file, doc.toString());
  try {
    await loadConfigFile(home);
  } catch (err) {
    await writeFileAtomic(file, before);
    throw err;
  }
  return file;
}
