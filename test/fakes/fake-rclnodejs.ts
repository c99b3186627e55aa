import type { Rcl, RclActionClient, RclGoalHandle, RclNode, RclSubscription } from '../../hardware/index.js';

/**
 * An in-memory stand-in for rclnodejs (ROS 2 is not in Debian, so the real library cannot be built
 * here): topics with subscriptions, and an action server the test controls. It implements only what
 * Hearth's adapters call, with the same shapes.
 */
export class FakeRos {
  private readonly subs = new Map<string, { type: string; cb: (m: unknown) => void }[]>();
  readonly goals: { action: string; type: string; goal: Record<string, unknown> }[] = [];
  serverUp = true;
  acceptGoals = true;
  /** Called after each goal's result, e.g. to answer the robot as a participant would. */
  onGoal: ((goal: Record<string, unknown>) => void) | null = null;

  /** Publish a message on a topic, as another ROS node would. */
  publish(topic: string, msg: unknown): void {
    for (const s of this.subs.get(topic) ?? []) s.cb(msg);
  }

  /** Topics with live subscriptions and their message types. */
  subscribed(): Record<string, string> {
    return Object.fromEntries([...this.subs].filter(([, v]) => v.length).map(([k, v]) => [k, v[0]!.type]));
  }

  /** The fake module. */
  readonly rcl: Rcl = (() => {
    const ros = this;
    const node: RclNode = {
      createSubscription(type, topic, cb) {
        const entry = { type, cb };
        ros.subs.set(topic, [...(ros.subs.get(topic) ?? []), entry]);
        return { topic, entry } as RclSubscription;
      },
      destroySubscription(sub) {
        const { topic, entry } = sub as { topic: string; entry: unknown };
        ros.subs.set(topic, (ros.subs.get(topic) ?? []).filter((e) => e !== entry));
      },
    };
    class ActionClient implements RclActionClient {
      constructor(_node: RclNode, private readonly type: string, private readonly name: string) {}
      async waitForServer(): Promise<boolean> {
        return ros.serverUp;
      }
      async sendGoal(goal: Record<string, unknown>): Promise<RclGoalHandle> {
        ros.goals.push({ action: this.name, type: this.type, goal });
        const accepted = ros.acceptGoals;
        return {
          isAccepted: () => accepted,
          getResult: async () => {
            setImmediate(() => ros.onGoal?.(goal));
            return {};
          },
          cancelGoal: async () => ({}),
        };
      }
    }
    return { init: async () => undefined, createNode: () => node, ActionClient };
  })();
}
