// Every check-in answer that tells something is said back before the session moves on (issue 15 item 2),
// measured on answers written before the change they measure (test/fixtures/dialogue/checkin-heldout-2.ts).
import { describe, expect, it } from 'vitest';
import { CHECKIN_HELDOUT_2 } from '../../test/fixtures/dialogue/checkin-heldout-2.js';
import { acknowledges, isDisclosure } from './acknowledge.js';
import { OfflineResponder } from './offline-responder.js';

const responder = new OfflineResponder();
const ack = (text: string, day: number) => responder.compose({
  act: 'checkin.ack', participantId: `P${day % 5}`, sessionId: `s${day}`, studyDay: day, turnIndex: 2, story: null, lastUtterance: text, shared: [text],
  previousLine: 'What kind of day are you having?',
});

describe('check-in acknowledgement on held-out answers', () => {
  it('says back what was told in every check-in answer that tells something', () => {
    const told = CHECKIN_HELDOUT_2.filter(isDisclosure);
    const missed = told.map((t, i) => ({ said: t, robot: ack(t, i + 1) })).filter((x) => !acknowledges(x.said, x.robot));
    console.log(`check-in acknowledgement, held-out set 2: ${told.length - missed.length}/${told.length} (of ${CHECKIN_HELDOUT_2.length} answers)`);
    for (const m of missed) console.log(`  missed: ${m.said} → ${m.robot}`);
    expect(told.length).toBeGreaterThanOrEqual(20);
    expect(missed).toEqual([]);
  });
});
