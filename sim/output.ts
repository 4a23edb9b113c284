/**
 * Output files of every flag that writes one (--trace, and --report, --perfetto, --out as they come):
 * one set of rules, so no flag can overwrite what is not ours or leave half a file behind.
 *
 * - `-` is stdout.
 * - Otherwise the target must be a regular, writable file or not exist yet in an existing, writable
 *   directory. A device, fifo, socket, directory or symbolic link is refused up front (exit 2), and
 *   so is a read-only file (by its mode bits too, so that root does not overwrite one).
 * - Data goes to a temporary file in the same directory (`.<name>.<pid>.<n>.tmp`, created
 *   exclusively), renamed over the target when the run completes, so a reader never sees half a file
 *   and an old file survives a failed run. On error, and on SIGINT or SIGTERM, the temporary file is
 *   removed; the signal then ends the process as it would have (the shell sees 130 or 143).
 */
import { accessSync, chmodSync, closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/** A file-system error on an output: the user's environment, not a bug (exit 2). */
function fsProblem(flag: string, target: string, e: unknown): UsageError {
  const err = e as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EIO: 'input/output error',
    EFBIG: 'file too large',
    ENOENT: 'the directory no longer exists',
  };
  return new UsageError(`${flag} ${target}: ${(err.code !== undefined ? what[err.code] : undefined) ?? err.message}`);
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isSymbolicLink(): boolean }): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Paths claimed by output flags in this process (two flags must not write the same file). */
const claimed = new Map<string, string>();

/**
 * Checks an output target before any work is done; throws a one-line UsageError (exit 2) when it
 * cannot or must not be written. `inputs` are files the command reads (the scenario): never targets.
 */
export function checkOutputTarget(flag: string, target: string, inputs: readonly string[] = [], inputWhat = 'the scenario file being run'): void {
  if (target === '-') return;
  if (target === '') throw new UsageError(`${flag}: expected a file name or - for stdout`);
  const path = resolve(target);
  const dir = dirname(path);
  let dst;
  try {
    dst = statSync(dir);
  } catch {
    throw new UsageError(`${flag} ${target}: directory ${dir} does not exist`);
  }
  if (!dst.isDirectory()) throw new UsageError(`${flag} ${target}: ${dir} is not a directory`);
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsProblem(flag, target, e);
  }
  if (st !== undefined) {
    if (!st.isFile()) throw new UsageError(`${flag} ${target}: is ${kindOf(st)}; give a regular file or - for stdout`);
    if ((st.mode & 0o222) === 0) throw new UsageError(`${flag} ${target}: the file is read-only`);
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UsageError(`${flag} ${target}: the file is not writable`);
    }
    for (const input of inputs) {
      if (resolve(input) === path) throw new UsageError(`${flag} ${target}: that is ${inputWhat}`);
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${target}: directory ${dir} is not writable`);
  }
  const other = claimed.get(path);
  if (other !== undefined && other !== flag) throw new UsageError(`${flag} ${target}: ${other} writes that file too`);
  claimed.set(path, flag);
}

/** Temporary files open right now; removed on SIGINT/SIGTERM. */
const pending = new Set<string>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of pending) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
  pending.clear();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // End as the signal would have, so a calling shell sees 128 + signal number and stops its loop.
  process.kill(process.pid, signal);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** An output being written: line-buffered into large writes; `commit` publishes it, `discard` drops it. */
export interface OutputSink {
  write(line: string): void;
  commit(): void;
  discard(): void;
}

class FileSink implements OutputSink {
  private fd: number;
  private readonly tmp: string;
  private buf: string[] = [];
  private bytes = 0;
  private done = false;
  constructor(
    private readonly flag: string,
    private readonly target: string,
  ) {
    const path = resolve(target);
    // Before the file exists: a signal between its creation and the handlers' installation would
    // end the process by the default action and leave the file behind. (Handlers run on the event
    // loop, after this constructor, so one arriving now still finds the file in `pending`.)
    installSignalHandlers();
    let fd = -1;
    let tmp = '';
    for (let n = 0; fd < 0; n++) {
      tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${n}.tmp`);
      try {
        fd = openSync(tmp, 'wx', 0o666);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw fsProblem(flag, target, e);
      }
    }
    this.fd = fd;
    this.tmp = tmp;
    pending.add(tmp);
  }
  write(line: string): void {
    this.buf.push(line);
    this.bytes += line.length + 1;
    if (this.bytes > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    this.bytes = 0;
    try {
      writeSync(this.fd, text);
    } catch (e) {
      this.discard();
      throw fsProblem(this.flag, this.target, e);
    }
  }
  commit(): void {
    if (this.done) return;
    this.flush();
    const path = resolve(this.target);
    try {
      closeSync(this.fd);
      // Keep the permissions of a file we replace.
      try {
        chmodSync(this.tmp, statSync(path).mode & 0o7777);
      } catch {
        /* no old file */
      }
      renameSync(this.tmp, path);
    } catch (e) {
      this.discard();
      throw fsProblem(this.flag, this.target, e);
    }
    this.done = true;
    pending.delete(this.tmp);
  }
  discard(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {
      /* closed */
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* gone */
    }
    pending.delete(this.tmp);
  }
}

class StdoutSink implements OutputSink {
  private buf: string[] = [];
  private bytes = 0;
  write(line: string): void {
    this.buf.push(line);
    this.bytes += line.length + 1;
    if (this.bytes > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    process.stdout.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.bytes = 0;
  }
  commit(): void {
    this.flush();
  }
  discard(): void {
    // What went to stdout is gone; what is buffered is dropped with the failed run.
    this.buf = [];
  }
}

/** Opens an output that `checkOutputTarget` accepted: stdout for `-`, else a temporary file beside it. */
export function openOutput(flag: string, target: string): OutputSink {
  return target === '-' ? new StdoutSink() : new FileSink(flag, target);
}

/**
 * A results log that grows one line at a time (`sim sweep --out`): every line is appended to the
 * target itself with one write as soon as it exists, so a process killed at any moment keeps every
 * line it finished; at worst the last line is torn, which `--resume` cuts off. Not a temporary file:
 * the partial file is the point. The target must have passed `checkOutputTarget` (a regular file or
 * none); it is opened without following a symbolic link that appeared since, and refused if what
 * was opened is not a regular file.
 */
export interface AppendSink {
  /** Appends one line (a newline is added) in a single write. */
  writeLine(line: string): void;
  close(): void;
}

export interface AppendOptions {
  /** Cut the file to this many bytes first (a torn last line found by the reader). */
  readonly truncateTo?: number;
}

class FileAppendSink implements AppendSink {
  private fd: number;
  constructor(
    private readonly flag: string,
    private readonly target: string,
    opts: AppendOptions,
  ) {
    const path = resolve(target);
    try {
      this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new UsageError(`${flag} ${target}: is a symbolic link; give a regular file or - for stdout`);
      throw fsProblem(flag, target, e);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new UsageError(`${flag} ${target}: is ${kindOf(st)}; give a regular file or - for stdout`);
    }
    if (opts.truncateTo !== undefined && opts.truncateTo < st.size) {
      try {
        ftruncateSync(this.fd, opts.truncateTo);
      } catch (e) {
        closeSync(this.fd);
        throw fsProblem(flag, target, e);
      }
    }
  }
  writeLine(line: string): void {
    try {
      writeSync(this.fd, `${line}\n`);
    } catch (e) {
      throw fsProblem(this.flag, this.target, e);
    }
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}

class StdoutAppendSink implements AppendSink {
  writeLine(line: string): void {
    process.stdout.write(`${line}\n`);
  }
  close(): void {}
}

/** Opens a line log that `checkOutputTarget` accepted: stdout for `-`, else the file itself, appending. */
export function openAppendOutput(flag: string, target: string, opts: AppendOptions = {}): AppendSink {
  return target === '-' ? new StdoutAppendSink() : new FileAppendSink(flag, target, opts);
}
