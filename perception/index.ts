/** Public surface of `perception/`: camera and microphone affect perception (see README). */
export {};
