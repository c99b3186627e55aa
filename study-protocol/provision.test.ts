import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../data/index.js';
import {
  allocationSequence, assignSlot, BUNDLED_PROTOCOL, consentStateFor, deviceSchedule, loadDevice, loadProtocol, provisionDevice, readDeviceConfig,
  recordConsentAnswers, sessionPlanFor, type Protocol,
} from './index.js';

const NOW = Date.parse('2026-11-20T15:00:00Z');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'hearth-provision-'));
const { protocol } = loadProtocol(BUNDLED_PROTOCOL);
const base = (dir: string, registry: string, participantId = 'P01') => ({
  protocolFile: BUNDLED_PROTOCOL, participantId, tz: 'America/New_York', startDate: '2026-12-01', deviceDir: dir, now: NOW,
  registryFile: registry, strata: { household: 'lives_alone' },
});

describe('allocation sequence', () => {
  it('is balanced within every completed block and never drifts by more than half the largest block', () => {
    for (const seed of ['a', 'b', 'c']) {
      const seq = allocationSequence(protocol, seed, 'household=lives_alone', 1000);
      const counts = { matched: 0, random: 0 };
      let maxDrift = 0;
      seq.forEach((a, slot) => {
        counts[a.condition as 'matched' | 'random']++;
        maxDrift = Math.max(maxDrift, Math.abs(counts.matched - counts.random));
        if (seq[slot + 1]?.blockIndex !== a.blockIndex) expect(counts.matched).toBe(counts.random);
      });
      expect(maxDrift).toBeLessThanOrEqual(2);
      // The one-pass sequence and the per-slot function agree.
      for (const slot of [0, 1, 7, 99, 500]) expect(assignSlot(protocol, seed, 'household=lives_alone', slot)).toEqual(seq[slot]);
    }
  });

  it('honours a 2:1 ratio and draws both block sizes', () => {
    const p: Protocol = structuredClone(protocol);
    p.allocation = { method: 'blocked', block_sizes: [3, 6], ratio: { matched: 2, random: 1 } };
    const sizes = new Set<number>();
    let matched = 0;
    for (const a of allocationSequence(p, 'seed', 'all', 600)) {
      sizes.add(a.blockSize!);
      if (a.condition === 'matched') matched++;
    }
    expect(sizes).toEqual(new Set([3, 6]));
    expect(Math.abs(matched - 400)).toBeLessThanOrEqual(4);
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const seq = (seed: string) => allocationSequence(protocol, seed, 'all', 40).map((a) => a.condition).join(',');
    expect(seq('s1')).toBe(seq('s1'));
    expect(seq('s1')).not.toBe(seq('s2'));
  });
});

describe('provisionDevice', () => {
  it('writes device.json, the frozen protocol and the database, and records seed and protocol hash', () => {
    const root = tmp();
    const dir = join(root, 'P01');
    const config = provisionDevice({ ...base(dir, join(root, 'registry.sqlite')), consentGranted: ['audio_recording', 'transcripts'] });
    const hash = loadProtocol(BUNDLED_PROTOCOL).hash;
    expect(readdirSync(dir).sort()).toEqual(['device.json', 'hearth.sqlite', 'protocol.yaml']);
    expect(readDeviceConfig(dir)).toEqual(config);
    expect(config).toMatchObject({ participantId: 'P01', tz: 'America/New_York', startDate: '2026-12-01', status: 'active', protocol: { id: 'empathic-stories-home', hash } });
    expect(config.allocation.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(config.allocation).toMatchObject({ stratum: 'household=lives_alone', slot: 0, method: 'blocked' });
    expect(['matched', 'random']).toContain(config.condition);
    expect(loadDevice(dir).protocol.hash).toBe(hash);

    const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    const log = store.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: 'system' });
    expect(log.participant('P01')).toMatchObject({ condition: config.condition, protocolHash: hash, startDate: '2026-12-01' });
    const consent = consentStateFor(store.consent, protocol, 'P01');
    expect(consent.allows('audio_recording')).toBe(true);
    expect(consent.allows('llm_processing')).toBe(false);
    expect(consent.needsReconsent).toBe(false);
    store.close();
    const reg = SqliteStore.open(join(root, 'registry.sqlite'));
    expect(reg.study.allocationsOf('empathic-stories-home')).toMatchObject([{ participantId: 'P01', condition: config.condition, protocolHash: hash, seed: config.allocation.seed }]);
    reg.close();
  });

  it('is idempotent and never reassigns a condition', () => {
    const root = tmp();
    const dir = join(root, 'P07');
    const first = provisionDevice(base(dir, join(root, 'r.sqlite'), 'P07'));
    const second = provisionDevice({ ...base(dir, join(root, 'r.sqlite'), 'P07'), now: NOW + 86_400_000 * 30 });
    expect(second).toEqual(first);
    const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    expect(store.study.loadScheduleInstances('P07')).toHaveLength(30);
    expect(store.forDevice({ deviceId: first.deviceId, tz: first.tz, clockSource: 'system' }).events({ kind: 'study.provisioned' })).toHaveLength(1);
    store.close();
  });

  it('balances conditions within each stratum across many participants', () => {
    const root = tmp();
    const registry = join(root, 'registry.sqlite');
    const per: Record<string, Record<string, number>> = {};
    for (let i = 1; i <= 40; i++) {
      const household = i % 3 === 0 ? 'lives_with_others' : 'lives_alone';
      const c = provisionDevice({ ...base(join(root, `P${i}`), registry, `P${String(i).padStart(2, '0')}`), strata: { household } });
      per[household] ??= { matched: 0, random: 0 };
      per[household]![c.condition]!++;
    }
    for (const counts of Object.values(per)) expect(Math.abs(counts.matched! - counts.random!)).toBeLessThanOrEqual(2);
    const reg = SqliteStore.open(registry);
    const rows = reg.study.allocationsOf('empathic-stories-home');
    reg.close();
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.seed)).size).toBe(1);
    expect(rows.filter((r) => r.stratum === 'household=lives_with_others').map((r) => r.slot)).toEqual(Array.from({ length: 13 }, (_, i) => i));
  });

  it.each([
    ['an email as participant id', { participantId: 'jane.doe@example.org' }, /looks like an email address/],
    ['a name as participant id', { participantId: 'Jane Doe' }, /contains spaces/],
    ['a name without digits', { participantId: 'jane' }, /no digits and may be a name/],
    ['an id off the protocol pattern', { participantId: 'X12' }, /does not match the protocol's participant_id_pattern/],
    ['an invalid time zone', { tz: 'Mars/Olympus_Mons' }, /time zone "Mars\/Olympus_Mons" is not a valid IANA time zone/],
    ['a start date in the past', { startDate: '2026-11-19' }, /start date 2026-11-19 is in the past: allowed from 2026-11-20 \(today in America\/New_York\) to 9999-12-01/],
    ['a malformed start date', { startDate: '01/12/2026' }, /start date "01\/12\/2026" is not a date/],
    ['a missing stratum', { strata: {} }, /stratifies by "household": give --stratum household=<lives_alone\|lives_with_others>/],
    ['an unknown stratum level', { strata: { household: 'castle' } }, /household=castle is not a level/],
  ])('rejects %s before writing anything', (_name, override, message) => {
    const root = tmp();
    const dir = join(root, 'device');
    const registry = join(root, 'registry.sqlite');
    expect(() => provisionDevice({ ...base(dir, registry), ...override })).toThrow(message);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(registry)).toBe(false);
  });

  it('refuses a start date whose schedule cannot be stored, naming the range, before writing anything', () => {
    const root = tmp();
    const dir = join(root, 'device');
    const registry = join(root, 'registry.sqlite');
    // 9999-12-31 used to reach the schedule table's CHECK on ISO timestamps (year 10000) after the slot was taken.
    expect(() => provisionDevice({ ...base(dir, registry), startDate: '9999-12-31' }))
      .toThrow(/start date 9999-12-31 is too late for the 30-day schedule to be stored: allowed from 2026-11-20 \(today in America\/New_York\) to 9999-12-01/);
    expect(existsSync(dir)).toBe(false);
    // The last start the range names is stored whole, in a zone behind UTC.
    const config = provisionDevice({ ...base(dir, registry), startDate: '9999-12-01', tz: 'Pacific/Pago_Pago' });
    expect(deviceSchedule(dir, NOW).instances.at(-1)).toMatchObject({ localDate: '9999-12-30' });
    expect(config.startDate).toBe('9999-12-01');
  });

  it('a provisioning that fails while the folder is built leaves no folder and gives the registry slot back', () => {
    const root = tmp();
    const registry = join(root, 'registry.sqlite');
    const dir = join(root, 'P01');
    // A folder with files but no device.json is refused before anything is allocated.
    const blocked = join(root, 'blocked');
    mkdirSync(join(blocked, 'busy'), { recursive: true });
    expect(() => provisionDevice({ ...base(blocked, registry) })).toThrow(/holds files but no device.json: provision into a new or empty folder/);
    // The device database fails while the folder is being built, after the slot was chosen.
    const failing = join(root, 'failing');
    const original = SqliteStore.open;
    let opened = 0;
    SqliteStore.open = ((file: string, ...rest: unknown[]) => {
      if (file.endsWith('hearth.sqlite') && file.includes('.failing.provisioning-')) {
        opened++;
        throw new Error('disk I/O error (injected)');
      }
      return (original as (...a: unknown[]) => ReturnType<typeof original>).call(SqliteStore, file, ...rest);
    }) as typeof original;
    try {
      expect(() => provisionDevice({ ...base(failing, registry) })).toThrow(/disk I\/O error \(injected\)/);
    } finally {
      SqliteStore.open = original;
    }
    expect(opened).toBe(1);
    expect(existsSync(failing)).toBe(false);
    expect(readdirSync(root).sort()).toEqual(['blocked', 'registry.sqlite']);
    const reg = SqliteStore.open(registry);
    try {
      expect(reg.study.allocationsOf(protocol.study.id)).toEqual([]);
    } finally {
      reg.close();
    }
    // A retry succeeds and takes slot 0, the slot the failure gave back; the next participant takes slot 1.
    expect(provisionDevice({ ...base(failing, registry) }).allocation.slot).toBe(0);
    expect(provisionDevice({ ...base(dir, registry, 'P02') }).allocation.slot).toBe(1);
    expect(readdirSync(root).sort()).toEqual(['P01', 'blocked', 'failing', 'registry.sqlite']);
  });

  it('into a folder holding a lock and its own registry, a failure removes only what it wrote and a retry moves the files in', () => {
    const root = tmp();
    const dir = join(root, 'demo');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hearth.lock'), '');
    const registry = join(dir, 'demo-allocation-registry.sqlite');
    const original = SqliteStore.open;
    SqliteStore.open = ((file: string, ...rest: unknown[]) => {
      if (file.endsWith('hearth.sqlite')) throw new Error('disk I/O error (injected)');
      return (original as (...a: unknown[]) => ReturnType<typeof original>).call(SqliteStore, file, ...rest);
    }) as typeof original;
    try {
      expect(() => provisionDevice(base(dir, registry))).toThrow(/injected/);
    } finally {
      SqliteStore.open = original;
    }
    expect(readdirSync(dir).filter((f) => !f.startsWith('demo-allocation-registry.sqlite-')).sort()).toEqual(['demo-allocation-registry.sqlite', 'hearth.lock']);
    expect(readdirSync(root)).toEqual(['demo']);
    expect(provisionDevice(base(dir, registry)).allocation.slot).toBe(0);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['device.json', 'hearth.lock', 'hearth.sqlite', 'protocol.yaml']));
  });

  it('names a damaged device.json with a short escaped excerpt, and an unknown zone by file and field', () => {
    const root = tmp();
    const dir = join(root, 'P01');
    provisionDevice(base(dir, join(root, 'registry.sqlite')));
    const file = join(dir, 'device.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, Buffer.concat([Buffer.from([0, 1, 0x1b]), Buffer.from('[31mRED"\\'), Buffer.alloc(5000, 0xff)]));
    let message = '';
    try { readDeviceConfig(dir); } catch (e) { message = (e as Error).message; }
    expect(message.startsWith(`${file}: not valid JSON (5012 characters, starting "\\x00\\x01\\x1b[31mRED\\"\\\\\\u{fffd}\\u{fffd}`)).toBe(true);
    expect(message).toMatch(/\\u\{fffd\}…"\); restore it from a backup or provision the folder again$/);
    expect(message.length).toBeLessThan(file.length + 400);
    expect(message).not.toMatch(/[\x00-\x1f\x7f]/);
    writeFileSync(file, 'null');
    expect(() => readDeviceConfig(dir)).toThrow(`${file}: not a Hearth device configuration (expected a JSON object, starting "null")`);
    writeFileSync(file, good.replace('"tz": "America/New_York"', '"tz": "Mars/Olympus"'));
    expect(() => loadDevice(dir)).toThrow(`${file}: field "tz" holds "Mars/Olympus", which is not a known IANA time zone (e.g. Europe/Berlin); provision the folder again or correct the field`);
  });

  it('stores the canonical spelling of a time zone typed in lower case or as a link', () => {
    const root = tmp();
    const registry = join(root, 'registry.sqlite');
    expect(provisionDevice({ ...base(join(root, 'a'), registry), tz: 'america/new_york' }).tz).toBe('America/New_York');
    expect(readDeviceConfig(join(root, 'a')).tz).toBe('America/New_York');
    expect(deviceSchedule(join(root, 'a'), NOW).instances[0]!.tz).toBe('America/New_York');
    // Provisioning again with the other spelling is the same zone, so it is idempotent.
    expect(provisionDevice({ ...base(join(root, 'a'), registry), tz: 'AMERICA/NEW_YORK' }).tz).toBe('America/New_York');
    expect(provisionDevice({ ...base(join(root, 'b'), registry, 'P02'), tz: 'US/Eastern' }).tz).toBe('America/New_York');
  });

  it('rejects a protocol with an unknown behaviour, instrument or condition before writing anything', () => {
    const root = tmp();
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, readFileSync(BUNDLED_PROTOCOL, 'utf8').replace('      - reflection\n', '      - reflect\n').replace('survey: exit', 'survey: exit_survey').replace('ratio: { matched: 1, random: 1 }', 'ratio: { matched: 1, randomised: 1 }'));
    const dir = join(root, 'device');
    expect(() => provisionDevice({ ...base(dir, join(root, 'r.sqlite')), protocolFile: bad })).toThrow(/unknown behaviour "reflect"[\s\S]*unknown condition "randomised"|unknown condition "randomised"[\s\S]*unknown behaviour "reflect"/);
    expect(() => provisionDevice({ ...base(dir, join(root, 'r.sqlite')), protocolFile: bad })).toThrow(/unknown instrument "exit_survey"/);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to change participant, zone or start date of a provisioned device', () => {
    const root = tmp();
    const dir = join(root, 'd');
    provisionDevice(base(dir, join(root, 'r.sqlite')));
    expect(() => provisionDevice(base(dir, join(root, 'r.sqlite'), 'P02'))).toThrow(/already provisioned with participant P01, not P02/);
    expect(() => provisionDevice({ ...base(dir, join(root, 'r.sqlite')), tz: 'Europe/Berlin' })).toThrow(/time zone America\/New_York, not Europe\/Berlin/);
  });

  it('takes a new protocol version with a new consent version: keeps the condition, asks consent again', () => {
    const root = tmp();
    const dir = join(root, 'd');
    const registry = join(root, 'r.sqlite');
    const first = provisionDevice({ ...base(dir, registry), consentGranted: ['audio_recording', 'transcripts', 'video_recording', 'llm_processing', 'keep_raw_media'] });
    const v2 = join(root, 'v2.yaml');
    writeFileSync(v2, readFileSync(BUNDLED_PROTOCOL, 'utf8')
      .replace('version: 1.0.0', 'version: 1.1.0')
      .replace('  current_version: 1\n', '  current_version: 2\n')
      .replace('  versions:\n    - version: 1\n', '  versions:\n    - version: 2\n      modalities:\n        audio_recording: { required: true, prompt: May I listen? }\n        llm_processing: { prompt: May a language model on a university server read transcripts? }\n    - version: 1\n'));
    const second = provisionDevice({ ...base(dir, registry), protocolFile: v2, now: NOW + 5 * 86_400_000 });
    expect(second.condition).toBe(first.condition);
    expect(second.protocol.version).toBe('1.1.0');
    expect(second.protocolHistory).toEqual([{ version: '1.0.0', hash: first.protocol.hash, replacedTsUtc: new Date(NOW + 5 * 86_400_000).toISOString() }]);
    const { protocol: p2 } = loadDevice(dir);
    const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    let consent = consentStateFor(store.consent, p2.protocol, 'P01');
    expect(consent.needsReconsent).toBe(true);
    expect(consent.allows('llm_processing')).toBe(false);
    recordConsentAnswers(store.consent, p2.protocol, second, p2.hash, [{ modality: 'audio_recording', granted: true }, { modality: 'llm_processing', granted: false }], 'voice', NOW + 6 * 86_400_000);
    consent = consentStateFor(store.consent, p2.protocol, 'P01');
    expect(consent.needsReconsent).toBe(false);
    expect(consent.allows('audio_recording')).toBe(true);
    expect(consent.allows('llm_processing')).toBe(false);
    expect(store.consent.list('P01').at(-1)).toMatchObject({ consentVersion: 2, method: 'voice', prompt: 'May a language model on a university server read transcripts?' });
    store.close();
  });

  it('detects a frozen protocol edited after provisioning', () => {
    const root = tmp();
    const dir = join(root, 'd');
    provisionDevice(base(dir, join(root, 'r.sqlite')));
    writeFileSync(join(dir, 'protocol.yaml'), `${readFileSync(join(dir, 'protocol.yaml'), 'utf8')}\n# edited\n`);
    expect(() => loadDevice(dir)).toThrow(/protocol\.yaml was changed after provisioning/);
    expect(() => readDeviceConfig(join(root, 'nowhere'))).toThrow(/device folder .* does not exist/);
    expect(() => readDeviceConfig(root)).toThrow(/device\.json not found: this folder is not provisioned/);
  });

  it('lists the schedule with stored statuses, and plans sessions per study day', () => {
    const root = tmp();
    const dir = join(root, 'd');
    const config = provisionDevice(base(dir, join(root, 'r.sqlite')));
    const { instances } = deviceSchedule(dir, NOW);
    expect(instances).toHaveLength(30);
    expect(instances[0]).toMatchObject({ id: 'd01-evening', windowStartLocal: '2026-12-01T17:00:00.000-05:00', windowStartUtc: '2026-12-01T22:00:00.000Z', status: 'scheduled' });
    expect(sessionPlanFor(protocol, config, 1)).toMatchObject({
      templateId: 'first_day', steps: ['greeting', 'survey:baseline', 'survey:mood', 'checkin', 'story', 'reflection', 'empathy', 'survey:story_empathy', 'goodbye'],
      condition: config.condition, storySelection: config.condition,
    });
    expect(sessionPlanFor(protocol, config, 1)!.instruments.map((i) => i.id)).toEqual(['baseline', 'mood', 'story_empathy']);
    expect(sessionPlanFor(protocol, config, 15)!.templateId).toBe('daily_story');
    expect(sessionPlanFor(protocol, config, 30)!.instruments.map((i) => i.id)).toEqual(['mood', 'story_empathy', 'exit']);
    expect(sessionPlanFor(protocol, config, 31)).toBeNull();
  });
});
