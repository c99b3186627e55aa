import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instrumentsOf, loadProtocol, parseScaleAnswer, repromptFor } from '../../study-protocol/index.js';
import { SimulatedParticipant } from './simulated-participant.js';

const protocol = loadProtocol(join(import.meta.dirname, '..', '..', 'study-protocol', 'examples', 'empathic-stories-30d.yaml')).protocol;

/** A clock a day later at every reading (so each question falls on another day), whose timers run at once. */
function daily() {
  let day = 0;
  return { now: () => Date.UTC(2026, 11, 1, 15) + 86_400_000 * day++, setTimeout: (fn: () => void) => (fn(), 0), clearTimeout: () => undefined };
}

function ask(p: SimulatedParticipant, prompt: string): string {
  let said = '';
  p.listen({ step: 'survey', prompt }, { spoke: (u) => (said = u.text), left: () => undefined, failed: () => undefined });
  return said;
}

describe('SimulatedParticipant answering questionnaires', () => {
  it('answers every item of the bundled protocol in a form the real answer parser accepts, mostly at the first ask', () => {
    let asked = 0;
    let understood = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const p = new SimulatedParticipant(seed, daily());
      for (const instrument of instrumentsOf(protocol).values()) {
        for (const item of instrument.items) {
          const first = ask(p, item.prompt);
          if (first === '') continue; // silence, as a person sometimes is
          asked++;
          const answer = parseScaleAnswer(first, item.scale);
          if (answer.kind === 'value') {
            understood++;
            expect(answer.value).toBeGreaterThanOrEqual(item.scale.min);
            expect(answer.value).toBeLessThanOrEqual(item.scale.max);
          } else {
            // Asked again in the robot's repair wording, the answer is understood.
            expect(answer.kind, `${item.code}: "${first}"`).toBe('unclear');
            const again = ask(p, repromptFor(item, 'no_match'));
            if (again !== '') expect(parseScaleAnswer(again, item.scale).kind, `${item.code} repaired: "${again}"`).toBe('value');
          }
        }
      }
    }
    expect(asked).toBeGreaterThan(80);
    expect(understood / asked).toBeGreaterThan(0.85);
  });
});
