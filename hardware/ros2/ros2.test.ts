import { describe, expect, it } from 'vitest';
import { FakeRos } from '../../test/fakes/fake-rclnodejs.js';
import { PeopleRegistry, type PeopleEvent } from '../../perception/index.js';
import { loadRclnodejs, Ros2Speaker, Ros4hriFaceWatcher, Ros4hriPeopleWatcher, Ros4hriVoiceListener, type FaceReading } from './index.js';

describe('ROS 2 adapters (fake rclnodejs: ROS 2 is not in Debian)', () => {
  it('speaks through the ROS4HRI text-to-speech action, and fails clearly without a server', async () => {
    const ros = new FakeRos();
    const node = ros.rcl.createNode('hearth');
    const speaker = new Ros2Speaker(ros.rcl, node, { now: () => 5 });
    await expect(speaker.speak({ text: 'Hello there.', act: 'greeting' })).resolves.toEqual({ startedAt: 5, endedAt: 5 });
    expect(ros.goals).toEqual([{ action: '/tts_engine/tts', type: 'tts_msgs/action/TTS', goal: { input: 'Hello there.' } }]);
    ros.serverUp = false;
    await expect(speaker.speak({ text: 'x', act: 'safe' })).rejects.toThrow(/\/tts_engine\/tts is not available/);
    ros.serverUp = true;
    ros.acceptGoals = false;
    await expect(speaker.speak({ text: 'x', act: 'safe' })).rejects.toThrow(/rejected/);
  });

  it('hears final LiveSpeech of tracked voices, with timing and confidence; early speech waits for the question', async () => {
    const ros = new FakeRos();
    let now = 1000;
    const listener = new Ros4hriVoiceListener(ros.rcl.createNode('hearth'), () => now);
    ros.publish('/humans/voices/tracked', { ids: ['v1'] });
    expect(ros.subscribed()['/humans/voices/v1/speech']).toBe('hri_msgs/msg/LiveSpeech');
    const heard: unknown[] = [];
    const stop = listener.listen({ step: 'checkin', prompt: '?' }, { spoke: (u) => heard.push(u), left: () => undefined, failed: () => undefined });
    ros.publish('/humans/voices/v1/speech', { incremental: 'I am', final: '', confidence: 0 });
    now = 2500;
    ros.publish('/humans/voices/v1/speech', { incremental: '', final: 'I am fine', confidence: 0.8 });
    expect(heard).toEqual([{ text: 'I am fine', startedAt: 1000, endedAt: 2500, confidence: 0.8, voiceId: 'v1' }]);
    stop();
    ros.publish('/humans/voices/v1/speech', { final: 'four' });
    const later: { text: string }[] = [];
    listener.listen({ step: 'rating', prompt: '?' }, { spoke: (u) => later.push(u), left: () => undefined, failed: () => undefined });
    await new Promise((r) => setImmediate(r));
    expect(later.map((u) => u.text)).toEqual(['four']);
    ros.publish('/humans/voices/tracked', { ids: [] });
    expect(ros.subscribed()['/humans/voices/v1/speech']).toBeUndefined();
    listener.close();
  });

  it('reads hri_msgs/Expression of tracked faces, and drops messages without numbers', () => {
    const ros = new FakeRos();
    const readings: FaceReading[] = [];
    const watcher = new Ros4hriFaceWatcher(ros.rcl.createNode('hearth'), () => 7, (r) => readings.push(r));
    ros.publish('/humans/faces/tracked', { ids: ['f1'] });
    ros.publish('/humans/faces/f1/expression', { expression: 'happy', valence: 0.7, arousal: 0.4, confidence: 0.9 });
    ros.publish('/humans/faces/f1/expression', { expression: 'sad' });
    ros.publish('/humans/faces/f1/expression', { expression: 'surprised', valence: 3, arousal: -4, confidence: 2 });
    expect(readings).toEqual([
      { faceId: 'f1', expression: 'happy', valence: 0.7, arousal: 0.4, confidence: 0.9, atMs: 7 },
      { faceId: 'f1', expression: 'surprised', valence: 1, arousal: -1, confidence: 1, atMs: 7 },
    ]);
    watcher.close();
  });

  it('keeps ROS4HRI persons with their face and voice ids and engagement, and ignores malformed fields', () => {
    const ros = new FakeRos();
    let now = 100;
    const events: PeopleEvent[] = [];
    const people = new PeopleRegistry({ onEvent: (e) => events.push(e) });
    const watcher = new Ros4hriPeopleWatcher(ros.rcl.createNode('hearth'), () => now, people);
    ros.publish('/humans/faces/tracked', { ids: ['f1', 'f2'] });
    ros.publish('/humans/faces/f1/roi', { xmin: 0.4, ymin: 0.2, xmax: 0.6, ymax: 0.5, c: 0.9 });
    ros.publish('/humans/faces/f2/roi', { xmin: 'left' });
    expect(people.face('f1')?.box).toEqual({ xmin: 0.4, ymin: 0.2, xmax: 0.6, ymax: 0.5 });
    expect(people.face('f2')?.box).toBeUndefined();
    ros.publish('/humans/voices/tracked', { ids: ['v3'] });
    ros.publish('/humans/voices/v3/is_speaking', { data: true });
    expect(people.voice('v3')?.speaking).toBe(true);
    now = 200;
    ros.publish('/humans/persons/tracked', { ids: ['anna', 'tv'] });
    expect(ros.subscribed()['/humans/persons/anna/engagement_status']).toBe('hri_msgs/msg/EngagementLevel');
    ros.publish('/humans/persons/anna/face_id', { data: 'f1' });
    ros.publish('/humans/persons/anna/voice_id', { data: 'v3' });
    ros.publish('/humans/persons/anna/engagement_status', { level: 3 });
    ros.publish('/humans/persons/tv/face_id', { data: 'f2' });
    ros.publish('/humans/persons/tv/engagement_status', { level: 42 });
    expect(people.person('anna')).toMatchObject({ anonymous: false, faceId: 'f1', voiceId: 'v3', engagement: 'ENGAGED' });
    expect(people.person('tv')).toMatchObject({ faceId: 'f2' });
    expect(people.addressee()?.id).toBe('anna');
    // The robot's persons replace the registry's own anonymous ones.
    expect(people.people().map((p) => p.id)).toEqual(['anna', 'tv']);
    expect(events.filter((e) => e.type === 'person.lost').map((e) => (e as { personId: string }).personId)).toEqual(['anon-f1', 'anon-f2']);
    ros.publish('/humans/persons/tracked', { ids: ['tv'] });
    expect(people.person('anna')).toBeUndefined();
    watcher.close();
    expect(ros.subscribed()['/humans/persons/tv/face_id']).toBeUndefined();
  });

  it('without ROS 2, loading rclnodejs fails with what to do', async () => {
    await expect(loadRclnodejs()).rejects.toThrow(/rclnodejs is not available .*source ROS 2/);
  });
});
