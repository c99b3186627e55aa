/** Camera adapters: frames from ffmpeg (video files, images, V4L2 devices). */
export { FfmpegFrameSource, type FfmpegFrameSourceOptions } from './ffmpeg-frame-source.js';
export { ENROLLMENT_FILE, FileEnrollmentStore } from './enrollment-file.js';
