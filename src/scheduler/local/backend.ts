import { PilotError } from '../../errors.js';

export class LocalBackend {
  constructor(readonly root: string) {
    throw new PilotError('CONFIG', 'the local backend is work in progress');
  }
}
