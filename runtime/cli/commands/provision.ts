import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSENT_MODALITIES, defaultRegistryPath, provisionDevice, StudyError, type ConsentModality, type DeviceConfig } from '../../../study-protocol/index.js';
import { readUplinkConfig, readUplinkState, serverUrlProblem, UPLINK_FILE, writeUplinkConfig } from '../../uplink/config.js';
import { enrollDevice } from '../../uplink/http-transport.js';
import { UplinkError } from '../../uplink/transport.js';
import { UsageError } from '../errors.js';
import { hearthVersion } from '../version.js';

interface ProvisionFlags {
  protocol?: string; participant?: string; tz?: string; start?: string; deviceDir: string; registry?: string; stratum?: string[]; consent?: string;
  server?: string; code?: string; json?: boolean;
}

/** The options a participant's provisioning needs (all or none: without them, `--server` only enrolls). */
const PROVISIONING = [['protocol', '--protocol'], ['participant', '--participant'], ['tz', '--tz'], ['start', '--start']] as const;

/**
 * `hearth provision`: enroll a participant and write their device folder (idempotent; never reassigns a
 * condition); with `--server URL --code CODE`, also enroll the device with the study server. On a device
 * folder that exists, `--server` and `--code` alone only enroll.
 */
export function register(program: Command): void {
  program
    .command('provision')
    .description('enroll a participant: allocate a condition and write the device folder (device.json, protocol.yaml, hearth.sqlite); with --server, also enroll the device with the study server')
    .option('--protocol <file>', 'study protocol YAML file')
    .option('--participant <id>', 'pseudonymous participant id, e.g. P01')
    .option('--tz <zone>', "participant's IANA time zone, e.g. America/New_York")
    .option('--start <date>', 'study day 1, YYYY-MM-DD (today or later)')
    .requiredOption('--device-dir <dir>', 'device folder to write')
    .option('--registry <file>', `allocation registry shared by the study's devices (default ${defaultRegistryPath()})`)
    .option('--stratum <factor=level...>', 'stratification level(s) when the protocol stratifies, e.g. household=lives_alone')
    .option('--consent <modalities>', `modalities consented with staff, comma-separated (${CONSENT_MODALITIES.join(', ')}) or "none"; omit to let the robot ask`)
    .option('--server <url>', 'study server to enroll the device with (https://…, or http://127.0.0.1 for a local test server)')
    .option('--code <code>', 'one-time enrollment code from hearth serve enroll (with --server)')
    .option('--json', 'print the device configuration (and the enrollment, without the token) as JSON')
    .action(async (o: ProvisionFlags) => {
      const given = PROVISIONING.filter(([k]) => o[k] !== undefined);
      if (given.length > 0 && given.length < PROVISIONING.length) {
        const missing = PROVISIONING.filter(([k]) => o[k] === undefined).map(([, flag]) => flag);
        throw new UsageError(`hearth provision: missing ${missing.join(', ')} (a participant's provisioning needs --protocol, --participant, --tz and --start)`);
      }
      if ((o.server === undefined) !== (o.code === undefined)) throw new UsageError(`hearth provision: ${o.server === undefined ? '--code needs --server' : '--server needs --code'} (the study server and its one-time enrollment code)`);
      if (given.length === 0 && o.server === undefined) {
        throw new UsageError('hearth provision: give --protocol, --participant, --tz and --start to provision, and/or --server and --code to enroll with a study server');
      }
      if (o.server !== undefined) {
        const problem = serverUrlProblem(o.server);
        if (problem) throw new UsageError(`option --server: ${problem}`);
      }
      let config: DeviceConfig | null = null;
      if (given.length > 0) {
        config = provision(o as Required<Pick<ProvisionFlags, 'protocol' | 'participant' | 'tz' | 'start'>> & ProvisionFlags);
        if (!o.json) {
          console.log(`provisioned ${config.participantId} on ${config.deviceId} in ${o.deviceDir}: study ${config.protocol.id} ${config.protocol.version} (${config.protocol.hash.slice(0, 19)}…), start ${config.startDate} ${config.tz}`);
          console.log(`condition recorded in device.json (concealed allocation, stratum ${config.allocation.stratum}, slot ${config.allocation.slot}); registry ${config.allocation.registry}`);
        }
      }
      const enrollment = o.server !== undefined ? await enroll(o.deviceDir, o.server, o.code!, o.json === true) : null;
      if (o.json) console.log(JSON.stringify(config ? { ...config, ...(enrollment ? { enrollment } : {}) } : { enrollment }));
    });
}

function provision(o: Required<Pick<ProvisionFlags, 'protocol' | 'participant' | 'tz' | 'start'>> & ProvisionFlags): DeviceConfig {
  const strata: Record<string, string> = {};
  for (const s of o.stratum ?? []) {
    const m = /^([a-z][a-z0-9_-]*)=([a-z][a-z0-9_-]*)$/.exec(s);
    if (!m) throw new StudyError(`option --stratum: expected factor=level, got "${s}"`);
    strata[m[1]!] = m[2]!;
  }
  let consentGranted: ConsentModality[] | undefined;
  if (o.consent !== undefined) {
    const parts = o.consent.trim() === 'none' ? [] : o.consent.split(',').map((x) => x.trim()).filter(Boolean);
    // An empty list is more likely a lost shell variable than a decision: declining everything is said with "none".
    if (parts.length === 0 && o.consent.trim() !== 'none') {
      throw new UsageError(`option --consent: empty; give the modalities consented with staff (${CONSENT_MODALITIES.join(', ')}), "none" if they declined all, or omit it to let the robot ask`);
    }
    for (const p of parts) if (!(CONSENT_MODALITIES as readonly string[]).includes(p)) throw new StudyError(`option --consent: unknown modality "${p}" (known: ${CONSENT_MODALITIES.join(', ')})`);
    consentGranted = parts as ConsentModality[];
  }
  try {
    return provisionDevice({
      protocolFile: o.protocol, participantId: o.participant, tz: o.tz, startDate: o.start, deviceDir: o.deviceDir, now: Date.now(),
      ...(o.registry ? { registryFile: o.registry } : {}), strata, ...(consentGranted ? { consentGranted } : {}),
    });
  } catch (e) {
    const flag = e instanceof StudyError && e.field !== undefined ? OPTION_OF[e.field] : undefined;
    if (flag) throw new UsageError(`option ${flag}: ${(e as StudyError).message}`, { cause: e });
    throw e;
  }
}

/** The option that sets each `ProvisionOptions` field a `StudyError` can name. */
const OPTION_OF: Record<string, string> = { startDate: '--start', tz: '--tz', participantId: '--participant' };

/** Enroll the device folder's device with the server and write `uplink.json` (mode 0600); idempotent for the same server. */
async function enroll(dir: string, server: string, code: string, quiet: boolean): Promise<{ server: string; deviceId: string; enrolledTsUtc: string; file: string }> {
  const deviceFile = join(dir, 'device.json');
  if (!existsSync(deviceFile)) {
    throw new UsageError(`${deviceFile} not found: provision the device first (--protocol, --participant, --tz, --start), or point --device-dir at a provisioned folder`);
  }
  let deviceId: string;
  try {
    deviceId = (JSON.parse(readFileSync(deviceFile, 'utf8')) as { deviceId?: unknown }).deviceId as string;
  } catch (e) {
    throw new UsageError(`${deviceFile}: not readable JSON (${(e as Error).message})`);
  }
  if (typeof deviceId !== 'string' || !deviceId) throw new UsageError(`${deviceFile}: has no deviceId`);
  const existing = readUplinkConfig(dir);
  const state = readUplinkState(dir);
  // A revoked enrollment is replaced by the new code's (the server revokes the old token anyway).
  const revoked = existing !== null && state?.revoked != null && state.server === existing.server && state.enrolledTsUtc === existing.enrolledTsUtc;
  if (existing && !revoked) {
    if (existing.server === server && existing.deviceId === deviceId) {
      if (!quiet) console.log(`${deviceId} is already enrolled with ${existing.server} (since ${existing.enrolledTsUtc}); the code was not used`);
      return { server, deviceId, enrolledTsUtc: existing.enrolledTsUtc, file: join(dir, UPLINK_FILE) };
    }
    throw new UsageError(`${join(dir, UPLINK_FILE)}: ${existing.deviceId} is already enrolled with ${existing.server}; remove that file to enroll with ${server}`);
  }
  let token: string;
  try {
    ({ token } = await enrollDevice({ server, code, deviceId, hearthVersion: hearthVersion() }));
  } catch (e) {
    if (e instanceof UplinkError) throw new UsageError(`hearth provision: ${e.message}`);
    throw e;
  }
  const enrolledTsUtc = new Date().toISOString();
  const file = writeUplinkConfig(dir, { server, deviceId, token, enrolledTsUtc });
  if (!quiet) console.log(`enrolled ${deviceId} with ${server}; its token is in ${file} (readable by this user only)`);
  return { server, deviceId, enrolledTsUtc, file };
}
