/**
 * Concealed, seeded allocation to conditions. The sequence for each stratum is a pure function
 * of (seed, study id, stratum): permuted blocks whose sizes are drawn from `block_sizes`, each
 * block holding every condition in proportion to its ratio. Nobody can predict the next
 * assignment without the seed, and anyone holding the seed can reproduce every assignment.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Protocol } from './protocol.js';
import { StudyError } from './errors.js';

/** Where a slot falls in the sequence and which condition it gets. */
export interface SlotAssignment {
  condition: string;
  method: 'blocked' | 'simple';
  blockIndex: number | null;
  blockSize: number | null;
}

/** A fresh random seed (128 bits, hex) for a study's allocation sequence. */
export function newAllocationSeed(): string {
  return randomBytes(16).toString('hex');
}

/** Uniform number in [0, 1) from SHA-256 of the parts: reproducible on every platform. */
function draw(...parts: (string | number)[]): number {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** The stratum key for a participant: `factor=level` pairs in protocol order, or `all`. Throws on missing or unknown levels. */
export function stratumKey(protocol: Protocol, strata: Readonly<Record<string, string>>): string {
  const factors = protocol.allocation?.stratify_by ?? [];
  if (factors.length === 0) return 'all';
  return factors.map((f) => {
    const levels = protocol.allocation?.strata?.[f] ?? [];
    const level = strata[f];
    if (level === undefined) throw new StudyError(`protocol ${protocol.study.id} stratifies by "${f}": give --stratum ${f}=<${levels.join('|')}>`);
    if (!levels.includes(level)) throw new StudyError(`stratum ${f}=${level} is not a level of "${f}" (levels: ${levels.join(', ')})`);
    return `${f}=${level}`;
  }).join(';');
}

/** Condition weights from the protocol (default 1 each), in condition order. */
function weights(protocol: Protocol): { id: string; weight: number }[] {
  return protocol.conditions.map((c) => ({ id: c.id, weight: protocol.allocation?.ratio?.[c.id] ?? 1 }));
}

/** One permuted block: its size and its conditions in order. */
export function block(protocol: Protocol, seed: string, stratum: string, index: number): string[] {
  const w = weights(protocol);
  const unit = w.reduce((a, c) => a + c.weight, 0);
  const sizes = protocol.allocation?.block_sizes ?? [unit];
  const size = sizes[Math.floor(draw(seed, protocol.study.id, stratum, index, 'size') * sizes.length)]!;
  const items = w.flatMap((c) => Array.from({ length: (size / unit) * c.weight }, () => c.id));
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(draw(seed, protocol.study.id, stratum, index, 'shuffle', i) * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The condition of the `slot`-th participant (0-based) in a stratum. */
export function assignSlot(protocol: Protocol, seed: string, stratum: string, slot: number): SlotAssignment {
  const method = protocol.allocation?.method ?? 'blocked';
  if (method === 'simple') {
    const w = weights(protocol);
    const total = w.reduce((a, c) => a + c.weight, 0);
    let x = draw(seed, protocol.study.id, stratum, 'simple', slot) * total;
    for (const c of w) {
      if ((x -= c.weight) < 0) return { condition: c.id, method, blockIndex: null, blockSize: null };
    }
    return { condition: w.at(-1)!.id, method, blockIndex: null, blockSize: null };
  }
  let start = 0;
  for (let index = 0; ; index++) {
    const b = block(protocol, seed, stratum, index);
    if (slot < start + b.length) return { condition: b[slot - start]!, method, blockIndex: index, blockSize: b.length };
    start += b.length;
  }
}

/** The first `n` assignments of a stratum in one pass (what `assignSlot` gives for slots 0..n-1). */
export function allocationSequence(protocol: Protocol, seed: string, stratum: string, n: number): SlotAssignment[] {
  if ((protocol.allocation?.method ?? 'blocked') === 'simple') return Array.from({ length: n }, (_, slot) => assignSlot(protocol, seed, stratum, slot));
  const out: SlotAssignment[] = [];
  for (let index = 0; out.length < n; index++) {
    const b = block(protocol, seed, stratum, index);
    for (const condition of b) if (out.length < n) out.push({ condition, method: 'blocked', blockIndex: index, blockSize: b.length });
  }
  return out;
}
