// The unit files as systemd reads them: parsed into sections and keys, ExecStart split into words by
// systemd's quoting rules (and, where systemd-analyze is installed, verified by systemd itself).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execArg, renderUnits, type UnitOptions } from './index.js';
import { execWords, parseUnit } from './unit-reader.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: UnitOptions = { name: 'hearth', deviceDir: '/srv/hearth/devices/P07', node: '/usr/bin/node', bin: '/opt/hearth/bin/hearth.js', maxAgeSec: 120, restartSec: 10 };

describe('the runtime unit', () => {
  const [runtime] = renderUnits({ ...base, user: 'hearth' });
  const unit = parseUnit(runtime!.text);
  const service = unit.get('Service')!;

  it('is named for the unit and has every setting a month alone in a home needs', () => {
    expect(runtime!.file).toBe('hearth.service');
    expect(unit.get('Unit')!.get('After')).toEqual(['network-online.target time-sync.target']);
    expect(unit.get('Unit')!.get('Wants')).toEqual(['network-online.target time-sync.target', 'hearth-watchdog.timer']);
    expect(unit.get('Unit')!.get('StartLimitIntervalSec')).toEqual(['0']);
    expect(service.get('Restart')).toEqual(['always']);
    expect(service.get('RestartSec')).toEqual(['10']);
    expect(service.get('StandardOutput')).toEqual(['journal']);
    expect(service.get('StandardError')).toEqual(['journal']);
    expect(service.get('User')).toEqual(['hearth']);
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('starts hearth run on the device folder with the node and bin/hearth.js it was installed with', () => {
    expect(execWords(service.get('ExecStart')![0]!)).toEqual(['/usr/bin/node', '/opt/hearth/bin/hearth.js', 'run', '--device-dir', '/srv/hearth/devices/P07']);
  });

  it('runs as root, with no User= line, when no user is given', () => {
    const u = parseUnit(renderUnits(base)[0]!.text).get('Service')!;
    expect(u.has('User')).toBe(false);
    expect(u.has('SupplementaryGroups')).toBe(false);
  });

  it.each([
    ['spaces', '/home/study staff/devices/P 07'],
    ['quotes and a backslash', '/srv/it\'s "P07" \\ here'],
    ['systemd specifiers and variables', '/srv/100%/P07 $HOME ${USER} %h'],
  ])('keeps a device folder with %s as one word, exactly', (_, deviceDir) => {
    for (const u of renderUnits({ ...base, deviceDir })) {
      const exec = parseUnit(u.text).get('Service')?.get('ExecStart');
      if (!exec) continue;
      const words = execWords(exec[0]!);
      expect(words[words.indexOf('--device-dir') + 1]).toBe(deviceDir);
    }
  });

  it('refuses a device folder with a newline instead of writing a unit that means something else', () => {
    expect(() => renderUnits({ ...base, deviceDir: '/srv/P07\nExecStartPre=/bin/rm -rf /' })).toThrow(/control character/);
    expect(() => execArg('a\tb')).toThrow(/control character/);
  });
});

describe('the watchdog', () => {
  const [, check, timer] = renderUnits(base);

  it('the check service runs service-check on the same folder, restarting the runtime unit when it fails', () => {
    expect(check!.file).toBe('hearth-watchdog.service');
    const s = parseUnit(check!.text).get('Service')!;
    expect(s.get('Type')).toEqual(['oneshot']);
    expect(execWords(s.get('ExecStart')![0]!)).toEqual(['/usr/bin/node', '/opt/hearth/bin/hearth.js', 'service-check', '--device-dir', '/srv/hearth/devices/P07', '--max-age', '120', '--restart', 'hearth.service']);
  });

  it('the timer runs the check every minute, first after the age limit, and stops with the runtime', () => {
    expect(timer!.file).toBe('hearth-watchdog.timer');
    const t = parseUnit(timer!.text);
    expect(t.get('Unit')!.get('PartOf')).toEqual(['hearth.service']);
    expect(t.get('Timer')!.get('OnActiveSec')).toEqual(['120']);
    expect(t.get('Timer')!.get('OnUnitActiveSec')).toEqual(['60']);
    expect(t.get('Timer')!.get('Unit')).toEqual(['hearth-watchdog.service']);
  });
});

const analyze = existsSync('/usr/bin/systemd-analyze');
describe.skipIf(!analyze)('systemd itself (systemd-analyze verify, no running systemd needed)', () => {
  it('accepts the three units for a device folder with spaces and a % sign', () => {
    const units = join(dir, 'units');
    mkdirSync(units);
    const deviceDir = join(dir, 'devices', 'P 07 100%');
    // ExecStart= must name an executable that exists; this test's own node and a real file as bin.
    const bin = join(dir, 'hearth.js');
    writeFileSync(bin, '');
    for (const u of renderUnits({ ...base, deviceDir, node: process.execPath, bin, user: 'root' })) writeFileSync(join(units, u.file), u.text);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', 'hearth.service', 'hearth-watchdog.service', 'hearth-watchdog.timer'],
      { cwd: units, encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${units}:` } });
    // A setting systemd cannot parse is only a warning on stderr (exit 0), so both outputs must be empty.
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
