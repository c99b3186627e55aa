import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { describeStoreContract } from './store.contract.js';

// A real file in a temp folder, as on the device.
describeStoreContract('SqliteStore (a real temp file)', () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'hearth-contract-')), 'hearth.sqlite')));
