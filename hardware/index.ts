/** Public surface of `hardware/`: adapters for speakers, listeners, cameras and microphones. */
export {};
