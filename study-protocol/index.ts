/** Public surface of `study-protocol/`: protocol files, enrollment, schedule, consent (see README). */
export {};
