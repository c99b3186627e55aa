/**
 * Free crisis resources by study region (ISO 3166 country code). Checked against each service's
 * public information in 2025; study staff must confirm them for their site before enrolment.
 */

/** One free service the robot can name. */
export interface CrisisResource {
  name: string;
  /** How to reach it, said aloud: "call or text 988". */
  spoken: string;
}

/** What the robot can offer in one region. */
export interface RegionResources {
  region: string;
  /** Emergency number for immediate danger. */
  emergency: string;
  /** Free suicide/crisis lines, 24/7. */
  crisis: readonly CrisisResource[];
  /** Domestic abuse help, when known for the region. */
  abuse: readonly CrisisResource[];
}

const FALLBACK: RegionResources = {
  region: 'fallback',
  emergency: 'your local emergency number',
  crisis: [{ name: 'Find A Helpline', spoken: 'find a free helpline for your country at findahelpline.com' }],
  abuse: [],
};

/** Resources for the regions Hearth ships with; any other region gets the generic fallback. */
export const CRISIS_RESOURCES: Readonly<Record<string, RegionResources>> = {
  US: {
    region: 'US',
    emergency: '911',
    crisis: [
      { name: '988 Suicide and Crisis Lifeline', spoken: 'call or text 988, the Suicide and Crisis Lifeline' },
      { name: 'Crisis Text Line', spoken: 'text HOME to 741741 for the Crisis Text Line' },
    ],
    abuse: [{ name: 'National Domestic Violence Hotline', spoken: 'call 1-800-799-7233 or text START to 88788 for the National Domestic Violence Hotline' }],
  },
  CA: {
    region: 'CA',
    emergency: '911',
    crisis: [{ name: '9-8-8 Suicide Crisis Helpline', spoken: 'call or text 988, the Suicide Crisis Helpline' }],
    abuse: [],
  },
  GB: {
    region: 'GB',
    emergency: '999',
    crisis: [
      { name: 'Samaritans', spoken: 'call Samaritans free on 116 123' },
      { name: 'Shout', spoken: 'text SHOUT to 85258' },
    ],
    abuse: [{ name: 'National Domestic Abuse Helpline', spoken: 'call the National Domestic Abuse Helpline on 0808 2000 247' }],
  },
  IE: {
    region: 'IE',
    emergency: '112 or 999',
    crisis: [
      { name: 'Samaritans', spoken: 'call Samaritans free on 116 123' },
      { name: '50808', spoken: 'text HELLO to 50808' },
    ],
    abuse: [],
  },
  AU: {
    region: 'AU',
    emergency: '000',
    crisis: [{ name: 'Lifeline', spoken: 'call Lifeline on 13 11 14' }],
    abuse: [{ name: '1800RESPECT', spoken: 'call 1800RESPECT on 1800 737 732' }],
  },
  NZ: {
    region: 'NZ',
    emergency: '111',
    crisis: [{ name: 'Need to talk? 1737', spoken: 'call or text 1737' }],
    abuse: [],
  },
  DE: {
    region: 'DE',
    emergency: '112',
    crisis: [{ name: 'TelefonSeelsorge', spoken: 'call the TelefonSeelsorge free on 0800 111 0 111' }],
    abuse: [],
  },
  FR: {
    region: 'FR',
    emergency: '112',
    crisis: [{ name: '3114', spoken: 'call 3114, the national suicide prevention line' }],
    abuse: [],
  },
};

const ALIASES: Readonly<Record<string, string>> = { UK: 'GB', USA: 'US' };

/** Resources for a region code such as `US`, `en-GB` or `GB`; unknown regions get the fallback. */
export function resourcesFor(region: string | undefined): RegionResources {
  const code = (region ?? '').trim().toUpperCase().split(/[-_]/).pop() ?? '';
  return CRISIS_RESOURCES[ALIASES[code] ?? code] ?? FALLBACK;
}
