// The sweep's functions, named by job.yaml (plain ES module: Node cannot import TypeScript without a loader).

/** Keeps a combination (true) or drops it (false): here the widest model with the larger learning rate. */
export function keep(params) {
  return !(params.hidden === 128 && params.lr === 0.05);
}

/** That task's resources, from its parameters and the defaults: the widest model gets more memory. */
export function resources(params, defaults) {
  return params.hidden >= 128 ? { ...defaults, mem: '2G' } : defaults;
}
