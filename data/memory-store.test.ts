import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { describeStoreContract } from './store.contract.js';

describeStoreContract('MemoryStore', () => MemoryStore.open('contract'));

describe('MemoryStore', () => {
  it('keeps nothing between stores and refuses writes once closed', () => {
    const a = MemoryStore.open('a');
    const log = a.forDevice({ deviceId: 'd', tz: 'UTC', clockSource: 'simulated' });
    log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, 0);
    expect(MemoryStore.open('b').stats.counts()).toMatchObject({ devices: 0 });
    expect(a.path).toBe('memory:a');
    a.close();
    expect(() => log.recordEvent('x', null, 1)).toThrow(StoreError);
  });
});
