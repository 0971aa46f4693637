#!/usr/bin/env node
// A stand-in for a training script: needs only Node. It parses --lr/--hidden/--batch, prints a fake loss
// curve and writes a metrics file to $PILOT_OUTPUT_DIR. The run with --batch 512 "runs out of GPU memory"
// on its first attempt, like a task on a flaky node, so `pilot restart-failed` has something to fix.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { lr: { type: 'string' }, hidden: { type: 'string' }, batch: { type: 'string' }, epochs: { type: 'string', default: '5' } } });
const lr = Number(values.lr);
const hidden = Number(values.hidden);
const batch = Number(values.batch);
const epochs = Number(values.epochs);
const task = process.env.PILOT_TASK_INDEX ?? '?';
const attempt = process.env.PILOT_ATTEMPT ?? '1';

console.log(`task ${task} (attempt ${attempt}): lr=${lr} hidden=${hidden} batch=${batch}`);
if (batch >= 512 && attempt === '1') {
  console.error(`RuntimeError: CUDA out of memory. Tried to allocate ${(batch * hidden * 4 / 1024).toFixed(0)} MiB (simulated)`);
  process.exit(1);
}

let loss = 2.3;
for (let epoch = 1; epoch <= epochs; epoch++) {
  // a smooth, deterministic curve: larger learning rates and wider layers converge faster
  loss = loss * (1 - Math.min(0.6, lr * 4 + hidden / 400));
  console.log(`epoch ${epoch}/${epochs}  loss ${loss.toFixed(4)}`);
}
const out = process.env.PILOT_OUTPUT_DIR;
if (out) writeFileSync(join(out, `metrics-${task}.json`), JSON.stringify({ task: Number(task), lr, hidden, batch, loss }) + '\n');
console.log(`final loss ${loss.toFixed(4)}`);
