/**
 * The systemd units `hearth install-service` writes: the runtime (`NAME.service`), and a watchdog
 * (`NAME-watchdog.timer` starting `NAME-watchdog.service`, which runs `hearth service-check` and
 * restarts the runtime when its heartbeat is stale). Pure text; writing is `install.ts`.
 */

/** What the units are made from. Paths must be absolute. */
export interface UnitOptions {
  /** The unit name without `.service` (default `hearth`). */
  name: string;
  deviceDir: string;
  /** The account the runtime runs as; none runs it as root. */
  user?: string;
  /** The node binary (`process.execPath` at install time). */
  node: string;
  /** Hearth's `bin/hearth.js`. */
  bin: string;
  /** The heartbeat age at which the watchdog restarts the runtime (seconds). */
  maxAgeSec: number;
  /** Seconds systemd waits before a restart. */
  restartSec: number;
}

/** One unit file: its file name and text. */
export interface UnitFile {
  file: string;
  text: string;
}

/** Optional settings read from here, if the file exists: the webhook secret, HEARTH_LLM_MODEL, OPENAI_BASE_URL… */
export const ENVIRONMENT_FILE = '/etc/hearth/hearth.env';

/** A unit name staff can type: letters, digits, `_`, `-`, `.`, `@`. */
export function validUnitName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,200}$/.test(name) && !name.endsWith('.service');
}

/** A Unix account name as useradd accepts it. */
export function validUserName(user: string): boolean {
  return /^[a-z_][a-z0-9_-]{0,31}\$?$/.test(user);
}

/**
 * One argument of an `ExecStart=` line: quoted when it holds anything but plain path characters,
 * with `\` and `"` escaped, `%` doubled (unit specifiers) and `$` doubled (variable expansion).
 * Control characters are refused: a path with a newline has no business in a unit file.
 */
export function execArg(arg: string): string {
  if (/[\x00-\x1f\x7f]/.test(arg)) throw new Error(`cannot put ${JSON.stringify(arg)} in a unit file: it has a control character`);
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(arg)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Text for a unit setting that is not split into words (Description=): only specifiers are escaped. */
function plain(text: string): string {
  if (/[\x00-\x1f\x7f]/.test(text)) throw new Error(`cannot put ${JSON.stringify(text)} in a unit file: it has a control character`);
  return text.replace(/%/g, '%%');
}

function command(o: UnitOptions, ...args: string[]): string {
  return [o.node, o.bin, ...args].map(execArg).join(' ');
}

/** The three units, in the order they are written. */
export function renderUnits(o: UnitOptions): UnitFile[] {
  const service = `${o.name}.service`;
  const watchdog = `${o.name}-watchdog.service`;
  const timer = `${o.name}-watchdog.timer`;
  const header = '# Written by `hearth install-service`; run it again (with --force) rather than editing by hand.';
  const runtime = [
    header,
    '[Unit]',
    `Description=${plain(`Hearth companion runtime (${o.deviceDir})`)}`,
    // Wants=, not Requires=: an offline device starts anyway, once the wait for the network times out.
    'After=network-online.target time-sync.target',
    'Wants=network-online.target time-sync.target',
    `Wants=${timer}`,
    // Never give up restarting (systemd's default stops after 5 failed starts in 10 s).
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    ...(o.user ? [`User=${o.user}`, 'SupplementaryGroups=audio video'] : []),
    `ExecStart=${command(o, 'run', '--device-dir', o.deviceDir)}`,
    'Restart=always',
    `RestartSec=${o.restartSec}`,
    // SIGTERM to hearth alone: it closes the open session and stops arecord, espeak-ng and ffmpeg itself.
    'KillMode=mixed',
    'TimeoutStopSec=30',
    `EnvironmentFile=-${ENVIRONMENT_FILE}`,
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${o.name}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  const check = [
    header,
    '[Unit]',
    `Description=${plain(`Hearth watchdog: restart ${service} when its heartbeat is older than ${o.maxAgeSec} s`)}`,
    `After=${service}`,
    '',
    '[Service]',
    // As root: it reads one file and may restart the runtime.
    'Type=oneshot',
    `ExecStart=${command(o, 'service-check', '--device-dir', o.deviceDir, '--max-age', String(o.maxAgeSec), '--restart', service)}`,
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${o.name}-watchdog`,
    '',
  ];
  const schedule = [
    header,
    '[Unit]',
    `Description=${plain(`Hearth watchdog timer for ${service}`)}`,
    // Stopped and restarted with the runtime, so a runtime stopped on purpose is left stopped.
    `PartOf=${service}`,
    `After=${service}`,
    '',
    '[Timer]',
    // The first check waits for a runtime that was just (re)started to beat.
    `OnActiveSec=${o.maxAgeSec}`,
    'OnUnitActiveSec=60',
    'AccuracySec=5',
    `Unit=${watchdog}`,
    '',
  ];
  return [
    { file: service, text: runtime.join('\n') },
    { file: watchdog, text: check.join('\n') },
    { file: timer, text: schedule.join('\n') },
  ];
}
