/** Public surface of `runtime/`. */
export {};
