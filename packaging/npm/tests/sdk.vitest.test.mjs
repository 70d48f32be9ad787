// vitest with the package's globalSetup: one emulator for the run, reset before each test.
import { beforeAll, beforeEach, inject, test } from 'vitest';

import { attachEmulator } from 'boxauth-emulator';
import { scenarios } from './scenarios.mjs';

let emulator;
beforeAll(async () => { emulator = await attachEmulator(inject('boxEmulator').base_url); });
beforeEach(async () => { await emulator.reset(); });
for (const [name, run] of Object.entries(scenarios)) {
  test(name, () => run(emulator), 30000);
}
