/**
 * `sim diff <a.jsonl> <b.jsonl>`: the first record where two traces (as written by --trace) part,
 * with a few records of context on each side. Streams both files a chunk at a time and keeps only
 * the last `context` common records: a trace of hundreds of MB is never held whole.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.ts';

/** Records shown before and after the first difference unless --context says otherwise. */
export const DEFAULT_DIFF_CONTEXT = 3;

const CHUNK_BYTES = 1 << 20;

/** Reads a file line by line with a fixed buffer; knows whether the last line had its newline. */
export class LineReader {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pending: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  /** Lines returned so far. */
  line = 0;
  /** True when the line last returned was the file's last and had no newline (a cut-off write). */
  unterminated = false;

  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`diff: ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`);
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new UsageError(`diff: ${path}: not a regular file`);
    }
    this.fd = fd;
  }

  /** The next line without its newline, or null at the end. */
  next(): string | null {
    for (;;) {
      const nl = this.chunk.indexOf(10, this.pos);
      if (nl >= 0) {
        const part = this.chunk.subarray(this.pos, nl);
        this.pos = nl + 1;
        const whole = this.pending.length === 0 ? part : Buffer.concat([...this.pending, part]);
        this.pending = [];
        this.line++;
        return whole.toString('utf8');
      }
      if (this.pos < this.chunk.length) this.pending.push(Buffer.from(this.chunk.subarray(this.pos)));
      if (this.eof) {
        if (this.pending.length === 0) return null;
        const rest = Buffer.concat(this.pending);
        this.pending = [];
        this.chunk = Buffer.alloc(0);
        this.pos = 0;
        this.line++;
        this.unterminated = true;
        return rest.toString('utf8');
      }
      const n = readSync(this.fd, this.buf, 0, CHUNK_BYTES, null);
      if (n === 0) this.eof = true;
      this.chunk = this.buf.subarray(0, n);
      this.pos = 0;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A trace line parsed, or a UsageError naming the file and line when it is not a whole record. */
function record(r: LineReader, text: string): Record<string, unknown> {
  const cut = (why: string): UsageError => new UsageError(`diff: ${r.path}: line ${r.line} ${why}`);
  if (r.unterminated) throw cut('has no newline: the trace is truncated (a run that was cut off?)');
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw cut('is not JSON: not a trace written by --trace, or truncated');
  }
  if (typeof o !== 'object' || o === null || !('tUs' in o) || !('kind' in o)) throw cut('is not a trace record (expected { tUs, kind, node, peer, label, value } as written by --trace)');
  return o as Record<string, unknown>;
}

export interface DiffResult {
  readonly identical: boolean;
  readonly lines: string[];
}

/** Compares two traces; `context` records are shown on each side of the first difference. */
export function diffTraces(aPath: string, bPath: string, context = DEFAULT_DIFF_CONTEXT): DiffResult {
  const a = new LineReader(aPath);
  let b: LineReader;
  try {
    b = new LineReader(bPath);
  } catch (e) {
    a.close();
    throw e;
  }
  try {
    const before: string[] = [];
    for (;;) {
      const la = a.next();
      const lb = b.next();
      if (la === null && lb === null) return { identical: true, lines: [`the traces are identical: ${a.line} records`] };
      if (la !== null && lb !== null && la === lb && !a.unterminated && !b.unterminated) {
        // Each common record is checked once, cheaply, for the first line only: a results file or
        // a capsule given by mistake is named as such, not diffed.
        if (a.line === 1) record(a, la);
        before.push(la);
        if (before.length > context) before.shift();
        continue;
      }
      const at = Math.max(a.line, b.line);
      const ra = la !== null ? record(a, la) : null;
      const rb = lb !== null ? record(b, lb) : null;
      const width = String(at + context).length;
      const show = (tag: string, n: number, mark: string, text: string): string => `${tag} ${String(n).padStart(width)} ${mark} ${text}`;
      const out: string[] = [];
      if (ra !== null && rb !== null) {
        const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => JSON.stringify(ra[k]) !== JSON.stringify(rb[k]));
        out.push(`first difference at record ${at} (${keys.join(', ')} differ${keys.length === 1 ? 's' : ''}); a = ${aPath}, b = ${bPath}`);
      } else {
        const [ended, goes] = ra === null ? [aPath, bPath] : [bPath, aPath];
        out.push(`${ended} ends after ${at - 1} records; ${goes} goes on (a = ${aPath}, b = ${bPath})`);
      }
      before.forEach((text, i) => out.push(show(' ', at - before.length + i, ' ', text)));
      const tail = (tag: string, r: LineReader, first: string | null): void => {
        if (first === null) {
          out.push(`${tag} ${' '.repeat(width)}   (end of trace)`);
          return;
        }
        out.push(show(tag, at, '>', first));
        for (let i = 0; i < context; i++) {
          const l = r.next();
          if (l === null) {
            out.push(`${tag} ${' '.repeat(width)}   (end of trace)`);
            return;
          }
          if (r.unterminated) {
            out.push(`${tag} ${' '.repeat(width)}   (a cut-off last line)`);
            return;
          }
          out.push(show(tag, at + i + 1, ' ', l));
        }
      };
      tail('a', a, la);
      tail('b', b, lb);
      return { identical: false, lines: out };
    }
  } finally {
    a.close();
    b.close();
  }
}
