/** ROS 2 adapters (rclnodejs, loaded only for `--hardware ros2`). */
export { loadRclnodejs, Ros2UnavailableError, type Rcl, type RclActionClient, type RclGoalHandle, type RclNode, type RclSubscription } from './rcl.js';
export { Ros2Speaker, type Ros2SpeakerOptions } from './ros2-speaker.js';
export { Ros4hriFaceWatcher, Ros4hriPeopleWatcher, Ros4hriVoiceListener, type FaceReading } from './ros4hri.js';
