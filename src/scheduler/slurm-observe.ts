import type { JobRecord, TaskStatus } from '../store/record.js';
import type { Transport } from '../transport/types.js';

export async function observeSlurm(_t: Transport, _records: JobRecord[]): Promise<Map<string, Map<number, TaskStatus>>> {
  throw new Error('observeSlurm: work in progress');
}
