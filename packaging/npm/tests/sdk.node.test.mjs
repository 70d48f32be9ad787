// node:test with the package's useBoxEmulator(): one emulator for the file, reset before each test.
import test from 'node:test';

import { useBoxEmulator } from 'boxauth-emulator/node-test';
import { scenarios } from './scenarios.mjs';

const emulator = useBoxEmulator();
for (const [name, run] of Object.entries(scenarios)) {
  test(name, () => run(emulator.current));
}
