/**
 * `sim merge a.jsonl b.jsonl …`: the results files of the shards of one sweep (or of a sweep run in
 * several goes) as one: the union of their runs, each run once, and the summary one sweep over that
 * union prints. A run found in two files must be the same run (same trace hash): otherwise the files
 * were made by different code or settings, and merging them would hide it.
 */
import { UsageError } from './errors.ts';
import { checkOutputTarget, openOutput } from './output.ts';
import { lineKey, readResults, summarise, unionOf, type ResultLine, type Summary } from './results.ts';

export interface MergeOutcome {
  readonly summary: Summary;
  /** The union, sorted by seed then mode. */
  readonly lines: readonly ResultLine[];
}

export function runMerge(files: readonly string[], opts: { out?: string } = {}): MergeOutcome {
  if (files.length === 0) throw new UsageError('merge: give at least one results file');
  if (opts.out !== undefined) checkOutputTarget('--out', opts.out, files);
  const union = unionOf(files.map((file) => ({ file, lines: readResults(file, { tolerateTorn: false }).lines })));
  const lines = union.sort((a, b) => a.seed - b.seed || (lineKey(a) < lineKey(b) ? -1 : lineKey(a) > lineKey(b) ? 1 : 0));
  if (opts.out !== undefined) {
    const sink = openOutput('--out', opts.out);
    for (const l of lines) sink.write(JSON.stringify(l));
    sink.commit();
  }
  return { summary: summarise(lines), lines };
}
