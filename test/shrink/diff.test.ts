import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTraces, LineReader } from '../../sim/diff.ts';
import { UsageError } from '../../sim/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'kraftsim-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rec = (i: number, label = 'Hello', pad = ''): string => JSON.stringify({ tUs: i * 10, kind: 'send', node: 'n0', peer: 'n1', label: label + pad, value: i });
function trace(name: string, lines: string[], ending = '\n'): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + ending);
  return p;
}

describe('sim diff', () => {
  const base = Array.from({ length: 50 }, (_, i) => rec(i));

  it('identical traces', () => {
    const r = diffTraces(trace('a1', base), trace('b1', base));
    expect(r.identical).toBe(true);
    expect(r.lines[0]).toMatch(/identical: 50 records/);
  });

  it('names the first differing record, its fields, and the context on each side', () => {
    const other = [...base];
    other[20] = rec(20, 'Bye');
    other[30] = rec(30, 'Later');
    const r = diffTraces(trace('a2', base), trace('b2', other), 2);
    expect(r.identical).toBe(false);
    expect(r.lines[0]).toMatch(/first difference at record 21 \(label differs\)/);
    expect(r.lines.slice(1, 3)).toEqual([`  19   ${base[18]}`, `  20   ${base[19]}`]);
    expect(r.lines[3]).toBe(`a 21 > ${base[20]}`);
    expect(r.lines[6]).toBe(`b 21 > ${other[20]}`);
    expect(r.lines).toHaveLength(9);
  });

  it('a trace that is a prefix of the other', () => {
    const r = diffTraces(trace('a3', base.slice(0, 10)), trace('b3', base));
    expect(r.lines[0]).toMatch(/a3 ends after 10 records/);
    expect(r.lines.some((l) => l.startsWith('b 11 > '))).toBe(true);
  });

  it('reads lines across chunk boundaries (a multi-MB trace), never the whole file', () => {
    const big = Array.from({ length: 3000 }, (_, i) => rec(i, 'x', 'y'.repeat(1000)));
    const other = [...big];
    other[2999] = rec(2999, 'z');
    const r = diffTraces(trace('a4', big), trace('b4', other), 1);
    expect(r.lines[0]).toMatch(/record 3000 /);
    const reader = new LineReader(join(dir, 'a4'));
    let n = 0;
    for (let l = reader.next(); l !== null; l = reader.next()) expect(l).toBe(big[n++]);
    reader.close();
    expect(n).toBe(3000);
  });

  it('bad input: a missing file, a truncated trace, a file that is not a trace', () => {
    expect(() => diffTraces(join(dir, 'nope.jsonl'), trace('b5', base))).toThrow(/no such file/);
    expect(() => diffTraces(trace('a6', base), join(dir, 'nope.jsonl'))).toThrow(UsageError);
    // Cut in the middle of a record: the last line has no newline and is not JSON.
    const cut = trace('cut', [...base.slice(0, 30), base[30]!.slice(0, 17)], '');
    expect(() => diffTraces(trace('a7', base), cut)).toThrow(/line 31 .*truncated/);
    // Cut right after a record, before its newline.
    const cut2 = trace('cut2', base.slice(0, 30), '');
    expect(() => diffTraces(cut2, trace('a8', base))).toThrow(/line 30 has no newline/);
    expect(() => diffTraces(trace('n1', ['{"runs": []}']), trace('n2', ['{"runs": []}']))).toThrow(/not a trace record/);
    expect(() => diffTraces(dir, trace('a9', base))).toThrow(/not a regular file/);
  });
});
