/**
 * The part of rclnodejs Hearth uses, as a structural type: adapters receive it in their
 * constructor, so they run against the real library on a robot and a fake in tests here (ROS 2 is
 * not in Debian). Only `loadRclnodejs` touches the real module.
 */

/** A ROS 2 node. */
export interface RclNode {
  createSubscription(type: string, topic: string, callback: (msg: unknown) => void): RclSubscription;
  destroySubscription(sub: RclSubscription): void;
}

/** A subscription handle. */
export type RclSubscription = object;

/** A goal sent to an action server. */
export interface RclGoalHandle {
  isAccepted(): boolean;
  getResult(): Promise<unknown>;
  cancelGoal(): Promise<unknown>;
}

/** An action client. */
export interface RclActionClient {
  waitForServer(timeoutMs: number): Promise<boolean>;
  sendGoal(goal: Record<string, unknown>): Promise<RclGoalHandle>;
}

/** The rclnodejs module, as far as Hearth needs it. */
export interface Rcl {
  init(): Promise<void>;
  createNode(name: string): RclNode & { spin?(): void };
  ActionClient: new (node: RclNode, type: string, name: string) => RclActionClient;
  shutdown?(): void;
}

/** rclnodejs could not be loaded: ROS 2 is not installed or not sourced. */
export class Ros2UnavailableError extends Error {
  override readonly name = 'Ros2UnavailableError';
  readonly exitCode = 2;
}

/** Load rclnodejs (an optional dependency, present only where ROS 2 is sourced). */
export async function loadRclnodejs(): Promise<Rcl> {
  try {
    const mod = (await import('rclnodejs' as string)) as { default?: Rcl } & Rcl;
    return mod.default ?? mod;
  } catch (cause) {
    throw new Ros2UnavailableError(
      `--hardware ros2: rclnodejs is not available (${(cause as Error).message.split('\n')[0]}); on the robot, source ROS 2 ` +
        '(source /opt/ros/<distro>/setup.bash) and run npm install rclnodejs',
    );
  }
}
