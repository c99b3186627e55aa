import type { Command } from 'commander';
import { CONSENT_MODALITIES, defaultRegistryPath, provisionDevice, StudyError, type ConsentModality } from '../../../study-protocol/index.js';

/** `hearth provision`: enroll a participant and write their device folder (idempotent; never reassigns a condition). */
export function register(program: Command): void {
  program
    .command('provision')
    .description('enroll a participant: allocate a condition and write the device folder (device.json, protocol.yaml, hearth.sqlite)')
    .requiredOption('--protocol <file>', 'study protocol YAML file')
    .requiredOption('--participant <id>', 'pseudonymous participant id, e.g. P01')
    .requiredOption('--tz <zone>', "participant's IANA time zone, e.g. America/New_York")
    .requiredOption('--start <date>', 'study day 1, YYYY-MM-DD (today or later)')
    .requiredOption('--device-dir <dir>', 'device folder to write')
    .option('--registry <file>', `allocation registry shared by the study's devices (default ${defaultRegistryPath()})`)
    .option('--stratum <factor=level...>', 'stratification level(s) when the protocol stratifies, e.g. household=lives_alone')
    .option('--consent <modalities>', `modalities consented with staff, comma-separated (${CONSENT_MODALITIES.join(', ')}) or "none"; omit to let the robot ask`)
    .option('--json', 'print the device configuration as JSON')
    .action((o: { protocol: string; participant: string; tz: string; start: string; deviceDir: string; registry?: string; stratum?: string[]; consent?: string; json?: boolean }) => {
      const strata: Record<string, string> = {};
      for (const s of o.stratum ?? []) {
        const m = /^([a-z][a-z0-9_-]*)=([a-z][a-z0-9_-]*)$/.exec(s);
        if (!m) throw new StudyError(`option --stratum: expected factor=level, got "${s}"`);
        strata[m[1]!] = m[2]!;
      }
      let consentGranted: ConsentModality[] | undefined;
      if (o.consent !== undefined) {
        const parts = o.consent === 'none' ? [] : o.consent.split(',').map((x) => x.trim()).filter(Boolean);
        for (const p of parts) if (!(CONSENT_MODALITIES as readonly string[]).includes(p)) throw new StudyError(`option --consent: unknown modality "${p}" (known: ${CONSENT_MODALITIES.join(', ')})`);
        consentGranted = parts as ConsentModality[];
      }
      const config = provisionDevice({
        protocolFile: o.protocol, participantId: o.participant, tz: o.tz, startDate: o.start, deviceDir: o.deviceDir, now: Date.now(),
        ...(o.registry ? { registryFile: o.registry } : {}), strata, ...(consentGranted ? { consentGranted } : {}),
      });
      if (o.json) console.log(JSON.stringify(config));
      else {
        console.log(`provisioned ${config.participantId} on ${config.deviceId} in ${o.deviceDir}: study ${config.protocol.id} ${config.protocol.version} (${config.protocol.hash.slice(0, 19)}…), start ${config.startDate} ${config.tz}`);
        console.log(`condition recorded in device.json (concealed allocation, stratum ${config.allocation.stratum}, slot ${config.allocation.slot}); registry ${config.allocation.registry}`);
      }
    });
}
