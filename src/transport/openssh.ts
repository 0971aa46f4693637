/** Placeholder until the OpenSSH transport lands (being written in this session). */
import { PilotError } from '../model/errors.js';
import type { ConnectContext, Transport } from './types.js';

export async function connectOpenSsh(_target: { destination: string; args: string[] }, _context: ConnectContext): Promise<Transport> {
  throw new PilotError('CONFIG', 'transport: openssh is not available yet');
}
