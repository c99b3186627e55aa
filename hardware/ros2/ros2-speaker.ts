import type { RobotLine, Speaker, SpokenLine } from '../../behaviors/index.js';
import type { Rcl, RclActionClient, RclNode } from './rcl.js';

/** Where the robot's text-to-speech action lives. Defaults follow ROS4HRI (`tts_msgs/action/TTS`). */
export interface Ros2SpeakerOptions {
  now: () => number;
  action?: string;
  type?: string;
  /** How long to wait for the action server before the speaker counts as failed. */
  serverTimeoutMs?: number;
}

/** Speaks through the robot's ROS 2 text-to-speech action; a missing server or rejected goal is a failure. */
export class Ros2Speaker implements Speaker {
  private readonly client: RclActionClient;

  constructor(rcl: Rcl, node: RclNode, private readonly options: Ros2SpeakerOptions) {
    this.client = new rcl.ActionClient(node, options.type ?? 'tts_msgs/action/TTS', options.action ?? '/tts_engine/tts');
  }

  async speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine> {
    const startedAt = this.options.now();
    const ready = await this.client.waitForServer(this.options.serverTimeoutMs ?? 2_000);
    if (!ready) throw new Error(`text-to-speech action ${this.options.action ?? '/tts_engine/tts'} is not available`);
    const goal = await this.client.sendGoal({ input: line.text });
    if (!goal.isAccepted()) throw new Error('text-to-speech goal was rejected');
    const onAbort = () => void goal.cancelGoal();
    signal?.addEventListener('abort', onAbort);
    try {
      await goal.getResult();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return { startedAt, endedAt: this.options.now() };
  }
}
