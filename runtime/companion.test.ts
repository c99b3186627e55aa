import { describe, expect, it } from 'vitest';
import { simRig } from '../test/support/sim-rig.js';

const happyScript = {
  replies: [
    { say: "I'm feeling pretty good today, a bit tired from work.", afterMs: 1200 },
    { say: 'It reminded me of my grandmother and her garden, I miss her a lot.', afterMs: 2500 },
    { say: 'She taught me the names of every flower. I think about her when spring comes.', afterMs: 2000 },
    { say: 'four', afterMs: 800 },
  ],
};

describe('companion runtime on simulated hardware', () => {
  it('runs a complete storytelling session and logs every turn durably', async () => {
    const rig = simRig(happyScript);
    await rig.runUntilState('idle');
    rig.companion.requestSession();
    await rig.runUntilState('idle');

    const [session] = rig.log.sessions('P01');
    expect(session?.status).toBe('completed');
    const turns = rig.log.turns(session!.sessionId);
    const robot = turns.filter((t) => t.speaker === 'robot').map((t) => t.text);
    const said = turns.filter((t) => t.speaker === 'participant').map((t) => t.text);
    expect(said).toEqual(happyScript.replies.map((r) => r.say));
    expect(robot[0]).toMatch(/Hearth/);
    expect(robot[0]).toMatch(/AI, not a person/); // first session: the robot says it is an AI
    expect(robot.at(-1)).toMatch(/goodbye|take care|see you|talk soon/i);
    const story = rig.stories.find((s) => s.id === session!.storyId)!;
    for (const p of story.paragraphs) expect(robot).toContain(p);
    // The empathic reply is grounded in what was said.
    const empathy = turns.find((t) => t.speaker === 'robot' && t.step === 'empathy' && t.seq > turns.find((u) => u.text.includes('grandmother'))!.seq)!;
    expect(empathy.text).toMatch(/grandmother/);
    const [rating] = rig.log.responses(session!.sessionId);
    expect({ value: rating!.value, status: rating!.status }).toEqual({ value: 4, status: 'answered' });
    expect(rig.store.integrityCheck()).toBe('ok');
  });
});
