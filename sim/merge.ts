/**
 * `sim merge a.jsonl b.jsonl …`: the results files of the shards of one sweep (or of a sweep run in
 * several goes) as one: the union of their runs, each run once, and the summary one sweep over that
 * union prints. A run found in two files must be the same run (same trace hash): otherwise the files
 * were made by different code or settings, and merging them would hide it. Files are read line by
 * line and only a digest of each run is kept, so shards of any size merge.
 */
import { UsageError } from './errors.ts';
import { checkOutputTarget, openOutput } from './output.ts';
import { summarise, unionOf, type Summary } from './results.ts';

export interface MergeOutcome {
  readonly summary: Summary;
  readonly runs: number;
}

export function runMerge(files: readonly string[], opts: { out?: string } = {}): MergeOutcome {
  if (files.length === 0) throw new UsageError('merge: give at least one results file');
  if (opts.out !== undefined) checkOutputTarget('--out', opts.out, files, 'one of the files being merged');
  // The union goes to a temporary file renamed at the end: a refused merge leaves no half union.
  const sink = opts.out !== undefined ? openOutput('--out', opts.out) : null;
  let digests;
  try {
    digests = unionOf(files, (text) => sink?.write(text));
  } catch (e) {
    sink?.discard();
    throw e;
  }
  sink?.commit();
  return { summary: summarise(digests), runs: digests.length };
}
