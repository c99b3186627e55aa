// A recorder for node-record-lpcm16 (it loads recorders by path): arecord as its own `arecord` recorder
// runs it, plus `--period-time`, so that samples arrive in short periods. Left to ALSA, `-D pulse`
// delivers 125-ms periods, and every utterance's end waits for the period it falls in
// (hardware/README.md, "Voice latency"). Plain CommonJS because node-record-lpcm16 `require`s it.
'use strict';

module.exports = (options) => {
  const args = ['-q', '-r', String(options.sampleRate), '-c', String(options.channels), '-t', options.audioType, '-f', 'S16_LE'];
  if (options.periodUs) args.push(`--period-time=${options.periodUs}`);
  args.push('-');
  if (options.device) args.unshift('-D', options.device);
  return { cmd: 'arecord', args };
};
