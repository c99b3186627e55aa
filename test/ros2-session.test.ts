import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { handsOverFloor } from '../behaviors/index.js';
import { runLive } from '../runtime/live.js';
import { FakeRos } from './fakes/fake-rclnodejs.js';

const PROTOCOL = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');

describe('a session on a ROS4HRI robot (fake rclnodejs: ROS 2 is not in Debian)', () => {
  it('speaks through the TTS action, hears LiveSpeech, logs the addressed person\'s face expressions as affect, and completes', async () => {
    const ros = new FakeRos();
    const answers = ["I'm well, thank you.", 'It reminded me of my father teaching me to fish.', 'He was so patient with me.', 'five'];
    ros.onGoal = (goal) => {
      // The robot's perception stack tracks one voice and one face (a repeated list changes nothing).
      ros.publish('/humans/voices/tracked', { ids: ['v1'] });
      ros.publish('/humans/faces/tracked', { ids: ['f1', 'f2'] });
      // The robot's person tracker: the participant is engaged; a face on the television is not.
      ros.publish('/humans/persons/tracked', { ids: ['anna', 'tv'] });
      ros.publish('/humans/persons/anna/face_id', { data: 'f1' });
      ros.publish('/humans/persons/anna/engagement_status', { level: 3 });
      ros.publish('/humans/persons/tv/face_id', { data: 'f2' });
      ros.publish('/humans/persons/tv/engagement_status', { level: 1 });
      // The participant answers each question (or listening cue); the robot's face sees a smile, and a grimace on the television.
      // (The television's reading comes first: fusion ignores a second reading at the same millisecond.)
      ros.publish('/humans/faces/f2/expression', { expression: 'angry', valence: -0.8, arousal: 0.7, confidence: 0.9 });
      ros.publish('/humans/faces/f1/expression', { expression: 'happy', valence: 0.6, arousal: 0.3, confidence: 0.8 });
      if (handsOverFloor(String(goal.input)) && answers.length) ros.publish('/humans/voices/v1/speech', { final: answers.shift(), confidence: 0.9 });
    };
    const dir = mkdtempSync(join(tmpdir(), 'hearth-ros2-'));
    const started = runLive({
      hardware: 'ros2', rcl: ros.rcl, deviceDir: join(dir, 'robot'), participantId: 'P21', tz: 'Asia/Tokyo', protocolFile: PROTOCOL,
      hearthVersion: 'test', input: new PassThrough(), output: new PassThrough(), replyTimeoutMs: 5_000,
    });
    const result = await started;
    expect(result.status).toBe('completed');
    expect(ros.goals.length).toBeGreaterThan(8);
    const db = new Database(join(dir, 'robot', 'hearth.sqlite'), { readonly: true });
    expect(db.prepare('SELECT hardware FROM devices').get()).toEqual({ hardware: 'ros2' });
    const said = (db.prepare("SELECT text FROM turns WHERE speaker = 'participant' ORDER BY seq").all() as { text: string }[]).map((r) => r.text);
    expect(said).toEqual(["I'm well, thank you.", 'It reminded me of my father teaching me to fish.', 'He was so patient with me.', 'five']);
    const affect = db.prepare("SELECT COUNT(*) AS n FROM affect_samples WHERE valence > 0 AND sources_json LIKE '%face%'").get() as { n: number };
    expect(affect.n).toBeGreaterThan(0);
    // Only the addressed person's face counts: the television's grimace never pulls valence down.
    expect((db.prepare('SELECT MIN(valence) AS v FROM affect_samples').get() as { v: number }).v).toBeGreaterThan(0);
    const addressed = (db.prepare("SELECT detail_json FROM events WHERE kind = 'addressee.changed'").all() as { detail_json: string }[]).map((r) => JSON.parse(r.detail_json).personId);
    expect(addressed).toContain('anna');
    expect(addressed).not.toContain('tv');
    db.close();
  }, 60_000);
});
