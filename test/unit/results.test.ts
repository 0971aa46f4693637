import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { cell, checkResultFile, flattenJson, parseResultFile, resultPath, resultsTable, RESULT_MAX_BYTES, tableObjects, toCsv, type ResultInput } from '../../src/model/results.js';
import type { TaskStatus } from '../../src/model/record.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INLINE_FILES, logTailsCommand, logTailsRequest, parseLogTails } from '../../src/scheduler/log-tails.js';

const done = (index: number, attempt = 1): TaskStatus => ({ index, state: 'COMPLETED', exitCode: 0, attempt });
const file = (text: string) => ({ size: Buffer.byteLength(text), bytes: Buffer.from(text) });

describe('result files', () => {
  it('live in the task attempt\'s output folder', () => {
    expect(resultPath(3, 2, 'results.json')).toBe('outputs/3/2/results.json');
  });

  it.each(['', '/etc/passwd', '../x', 'a/../../b', 'a b', 'x;rm', "it's", 'a\nb', './x', '-x/..'])('refuses --file %j (exit 2)', (f) => {
    expect(() => checkResultFile(f)).toThrow(PilotError);
    try { checkResultFile(f); } catch (e) { expect((e as PilotError).exitCode).toBe(2); }
  });

  it('accepts plain relative paths', () => {
    expect(checkResultFile('metrics/final-1.json')).toBe('metrics/final-1.json');
  });

  it('the log reader takes output paths, never one that could leave the folder', () => {
    expect(logTailsCommand('/j', ['outputs/1/1/results.json', 'logs/5_1.err'], 100)).toContain('outputs/1/1/results.json');
    for (const bad of ['outputs/1/1/../../../etc/passwd', 'outputs/1/x/r.json', 'outputs/1/1/a b', 'outputs/1/1/$(id)']) {
      expect(() => logTailsCommand('/j', [bad], 100)).toThrow(PilotError);
    }
    const out = `@@pilot:log outputs/2/1/r.json 3\n${Buffer.from('{}\n').toString('base64')}\n@@pilot:log outputs/3/1/r.json -\n@@pilot:log end\n`;
    const parsed = parseLogTails(out);
    expect(parsed.get('outputs/2/1/r.json')?.bytes.toString()).toBe('{}\n');
    expect(parsed.has('outputs/3/1/r.json')).toBe(true);
    expect(parsed.get('outputs/3/1/r.json')).toBeUndefined();
  });

  it('a long list travels on stdin: still ONE command, whatever the number of files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-results-'));
    const files = Array.from({ length: INLINE_FILES + 50 }, (_, i) => `outputs/${i + 1}/1/results.json`);
    for (const [i, f] of files.entries()) {
      if (i % 2) continue;   // every other task wrote nothing
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), `{"i": ${i}}`);
    }
    const req = logTailsRequest(dir, files, 1024);
    expect(req.stdin?.split('\n')).toHaveLength(files.length + 1);
    expect(req.command).not.toContain('outputs/');
    const read = parseLogTails(execFileSync('sh', ['-c', req.command], { input: req.stdin, encoding: 'utf8' }));
    expect(read.size).toBe(files.length);
    expect(read.get('outputs/1/1/results.json')!.bytes.toString()).toBe('{"i": 0}');
    expect(read.get(files.at(-1)!)).toBeUndefined();
    expect(logTailsRequest(dir, files.slice(0, 3), 10).stdin).toBeUndefined();
  });
});

describe('flattenJson', () => {
  it('nested objects become a.b columns; lists and scalars stay values; a scalar file is one `result` column', () => {
    expect(flattenJson({ loss: 0.1, acc: { top1: 0.9, k: { x: 1 } }, tags: ['a', 'b'], n: null })).toEqual({ loss: 0.1, 'acc.top1': 0.9, 'acc.k.x': 1, tags: ['a', 'b'], n: null });
    expect(flattenJson(42)).toEqual({ result: 42 });
    expect(flattenJson([1, 2])).toEqual({ result: [1, 2] });
  });

  it('a __proto__ key is a column, not a prototype', () => {
    const flat = flattenJson(JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}'));
    expect(Object.keys(flat)).toEqual(['__proto__.polluted', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('resultsTable', () => {
  const inputs: ResultInput[] = [
    { status: done(1), params: { lr: 0.1, bs: 32 }, file: file('{"loss": 0.5, "acc": {"top1": 0.9}}') },
    { status: done(2), params: { lr: 0.01, bs: 32 }, file: undefined },
    { status: done(3), params: { lr: 0.001, bs: 64 }, file: file('not json <b>') },
    { status: { index: 4, state: 'FAILED', exitCode: 1, attempt: 2 }, params: { lr: 1, bs: 64 }, file: null },
    { status: done(5), params: { lr: 0.5, bs: 8 }, file: { size: RESULT_MAX_BYTES + 1, bytes: Buffer.alloc(RESULT_MAX_BYTES) } },
    { status: done(6), params: { lr: 0.2, bs: 8 }, file: file('{"lr": "clash", "state": "x"}') },
  ];
  const t = resultsTable(inputs, 'results.json');

  it('one row per task with params first, then the result columns; clashing names get result.', () => {
    expect(t.columns).toEqual(['index', 'state', 'attempt', 'lr', 'bs', 'loss', 'acc.top1', 'result.lr', 'result.state', 'note']);
    expect(t.rows).toHaveLength(6);
    expect(cell(t, t.rows[0]!, 'acc.top1')).toBe(0.9);
    expect(cell(t, t.rows[5]!, 'lr')).toBe(0.2);
    expect(cell(t, t.rows[5]!, 'result.lr')).toBe('clash');
  });

  it('missing, non-JSON, too large, not completed: a note, not a crash', () => {
    expect(t.rows[1]!.note).toBe('no results.json');
    expect(t.rows[2]!.note).toMatch(/^results\.json is not JSON/);
    expect(t.rows[3]!.note).toBe('not completed (FAILED)');
    expect(t.rows[4]!.note).toMatch(/larger than/);
  });

  it('CSV quotes commas, quotes and newlines (RFC 4180)', () => {
    const csv = toCsv(resultsTable([{ status: done(1), params: { name: 'a,b' }, file: file('{"msg": "say \\"hi\\"\\nbye"}') }], 'r.json'));
    expect(csv).toBe('index,state,attempt,param.name,msg\r\n1,COMPLETED,1,"a,b","say ""hi""\nbye"\r\n');
    const two = toCsv([{ name: 'j1', ...resultsTable([inputs[0]!], 'r') }, { name: 'j2', ...resultsTable([inputs[5]!], 'r') }]);
    expect(two.split('\r\n')[0]).toBe('job,index,state,attempt,lr,bs,loss,acc.top1,result.lr,result.state');
    expect(two.split('\r\n')[2]).toBe('j2,6,COMPLETED,1,0.2,8,,,clash,x');
  });

  it('JSON rows: column → value', () => {
    expect(tableObjects(t)[0]).toEqual({ index: 1, state: 'COMPLETED', attempt: 1, lr: 0.1, bs: 32, loss: 0.5, 'acc.top1': 0.9 });
  });

  it('parseResultFile says what is wrong', () => {
    expect(parseResultFile(file('{"a":1}'), 'r.json')).toEqual({ result: { a: 1 } });
    expect(parseResultFile(undefined, 'r.json').note).toBe('no r.json');
  });
});
