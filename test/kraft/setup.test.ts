import { describe, expect, it } from 'vitest';
import { TruthHistory } from '../../sim/cluster/history.ts';
import { hostedBy, makeLayout } from '../../sim/cluster/layout.ts';
import { PartitionStateBatch } from '../../sim/cluster/partitions.ts';
import { initialSnapshot, MetadataImage, partitionsByBroker } from '../../sim/kraft/metadata-image.ts';

/** The set-up shortcuts of a KRaft cluster give what the general paths give. */

const layout = () => makeLayout({ partitions: 500, 'partitions.per.topic': 7, brokers: 5, 'replication.factor': 3 });

describe('KRaft set-up', () => {
  it('initialSnapshot is the snapshot of a new image with broker b registered at epoch b', () => {
    const l = layout();
    const image = new MetadataImage(l);
    for (let b = 0; b < l.brokers; b++) image.brokerEpoch[b] = b;
    const want = image.toSnapshot();
    const got = initialSnapshot(l);
    for (const k of Object.keys(want) as (keyof typeof want)[]) expect(Array.from(got[k]), k).toEqual(Array.from(want[k]));
  });

  it('loadInitialSnapshot into a new image equals loadSnapshot', () => {
    const l = layout();
    const s = initialSnapshot(l);
    const a = new MetadataImage(l);
    const b = new MetadataImage(l);
    a.loadSnapshot(s);
    b.loadInitialSnapshot(s);
    const sa = a.toSnapshot();
    const sb = b.toSnapshot();
    for (const k of Object.keys(sa) as (keyof typeof sa)[]) expect(Array.from(sb[k]), k).toEqual(Array.from(sa[k]));
  });

  it('a blank image copying an image gets its states, whether it holds the initial ones or not, and on reuse', () => {
    const l = layout();
    const src = new MetadataImage(l);
    src.brokerEpoch[2] = 7;
    const same = (x: MetadataImage, y: MetadataImage): void => {
      const sx = x.toSnapshot();
      const sy = y.toSnapshot();
      for (const k of Object.keys(sx) as (keyof typeof sx)[]) expect(Array.from(sx[k]), k).toEqual(Array.from(sy[k]));
    };
    const fresh = new MetadataImage(l, true);
    fresh.copyFrom(src);
    same(fresh, src);
    const changes = new PartitionStateBatch(2);
    changes.push(3, 1, 4, 5, 1);
    changes.push(9, -1, 2, 3, 0);
    src.replay({ partitionChanges: changes, brokers: [], noOps: 0 });
    const after = new MetadataImage(l, true);
    after.copyFrom(src);
    same(after, src);
    // Reused: written since its copy, then copies an image in the initial states again.
    fresh.partitions.set(4, 2, 9, 9, 1);
    const initial = new MetadataImage(l);
    fresh.copyFrom(initial);
    same(fresh, initial);
  });

  it('partitionsByBroker lists each broker\'s hosted partitions, as hostedBy', () => {
    const l = layout();
    const lists = partitionsByBroker(l);
    expect(lists.length).toBe(l.brokers);
    for (let b = 0; b < l.brokers; b++) expect(lists[b]).toBe(hostedBy(l)[b]);
  });

  it('TruthHistory notes a leader outside its partition\'s replicas, and any broker a detached state names', () => {
    const l = layout();
    const h = new TruthHistory(l.partitions, l);
    for (let b = 0; b < l.brokers; b++) expect(h.strayLeader(b)).toBe(false);
    const p = 17;
    const replicas = Array.from(l.replicas.subarray(p * 3, p * 3 + 3));
    const outsider = [0, 1, 2, 3, 4].find((b) => !replicas.includes(b))!;
    h.append(p, replicas[1]!, 1, 3);
    h.append(p, -1, 2, 1);
    for (let b = 0; b < l.brokers; b++) expect(h.strayLeader(b)).toBe(false);
    h.append(p, outsider, 3, 1);
    expect(h.strayLeader(outsider)).toBe(true);
    expect(h.strayLeader(replicas[0]!)).toBe(false);
    h.appendDetached(replicas[2]!, 9, 1);
    expect(h.strayLeader(replicas[2]!)).toBe(true);
    expect(new TruthHistory(10).strayLeader(0)).toBe(true);
  });

  it('TruthHistory heads: none until a state is appended, then the latest entry', () => {
    const h = new TruthHistory(4, null);
    expect(h.headOf(2)).toBe(-1);
    const a = h.append(2, 1, 1, 3);
    const d = h.appendDetached(0, 5, 1);
    const b = h.append(2, 0, 2, 1);
    expect(h.headOf(2)).toBe(b);
    expect(h.find(2, 1, 1, 3)).toBe(a);
    expect(h.find(2, 0, 5, 1)).toBe(-1);
    expect(d).toBeGreaterThan(a);
    expect(h.changesOf(2)).toBe(2);
    expect(h.headOf(0)).toBe(-1);
  });
});
