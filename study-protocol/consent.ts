/** Versioned consent per modality, decided from the protocol and the stored decisions. */
import { CONSENT_MODALITIES, type ConsentModality, type Protocol } from './protocol.js';

/** One stored consent decision (the store's consent_records row, as the runtime sees it). */
export interface ConsentDecision {
  consentVersion: number;
  modality: ConsentModality;
  granted: boolean;
  /** When it was given, epoch ms; later decisions replace earlier ones. */
  atMs: number;
  /** How it was collected: by voice with the robot, on paper or a form with staff. */
  method: 'voice' | 'staff';
}

/** A question the robot (or staff) must ask before the next session. */
export interface ConsentQuestion {
  modality: ConsentModality;
  prompt: string;
  required: boolean;
}

/**
 * What the participant has consented to under the protocol's current consent version. A
 * modality is allowed only when its latest decision *at the current version* is a yes: a new
 * version must be asked again before anything it covers runs, and a modality the current version
 * does not list is never allowed.
 */
export class ConsentState {
  /** The protocol's current consent version. */
  readonly currentVersion: number;
  private readonly latest = new Map<ConsentModality, ConsentDecision>();
  private readonly asked: ConsentQuestion[];

  constructor(consent: Protocol['consent'], decisions: readonly ConsentDecision[]) {
    this.currentVersion = consent.current_version;
    const version = consent.versions.find((v) => v.version === consent.current_version);
    if (!version) throw new RangeError(`consent version ${consent.current_version} is not defined in the protocol`);
    this.asked = CONSENT_MODALITIES.flatMap((m) => {
      const spec = version.modalities[m];
      return spec ? [{ modality: m, prompt: spec.prompt, required: spec.required ?? false }] : [];
    });
    const ordered = [...decisions].sort((a, b) => a.atMs - b.atMs);
    for (const d of ordered) if (d.consentVersion === this.currentVersion) this.latest.set(d.modality, d);
  }

  /** Whether `modality` may be used now (e.g. `llm_processing` before any language-model call). */
  allows(modality: ConsentModality): boolean {
    return this.latest.get(modality)?.granted === true;
  }

  /** Modalities of the current version not yet decided: ask these before the next session. */
  pending(): ConsentQuestion[] {
    return this.asked.filter((q) => !this.latest.has(q.modality));
  }

  /** True when the current consent version has questions not yet answered. */
  get needsReconsent(): boolean {
    return this.pending().length > 0;
  }

  /** Required modalities the participant declined: no session may run while any remain. */
  declinedRequired(): ConsentModality[] {
    return this.asked.filter((q) => q.required && this.latest.get(q.modality)?.granted === false).map((q) => q.modality);
  }

  /** Whether a session may start: everything asked, and nothing required declined. */
  get canRunSessions(): boolean {
    return !this.needsReconsent && this.declinedRequired().length === 0;
  }

  /** A summary for logs and the CLI: modality → 'granted' | 'declined' | 'pending'. */
  summary(): Record<string, 'granted' | 'declined' | 'pending'> {
    return Object.fromEntries(this.asked.map((q) => {
      const d = this.latest.get(q.modality);
      return [q.modality, d === undefined ? 'pending' : d.granted ? 'granted' : 'declined'];
    }));
  }
}

/** True when the participant must be asked for consent (again) before the next session. */
export function needsReconsent(protocol: Protocol, decisions: readonly ConsentDecision[]): boolean {
  return new ConsentState(protocol.consent, decisions).needsReconsent;
}
