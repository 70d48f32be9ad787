'use strict';
// For node:test: `const emulator = useBoxEmulator();` at the top of a test file starts one
// emulator before the file's tests (or attaches to BOX_EMULATOR_URL), resets it before each test
// and stops it after. `emulator.current` is the Emulator.

const { after, before, beforeEach } = require('node:test');
const { attachEmulator, startEmulator } = require('./index.js');

function useBoxEmulator(options = {}) {
  const holder = { current: null };
  before(async () => {
    const url = options.url ?? process.env.BOX_EMULATOR_URL;
    holder.current = url ? await attachEmulator(url) : await startEmulator(options);
  });
  beforeEach(async () => { await holder.current.reset(); });
  after(async () => { await holder.current?.stop(); });
  return holder;
}

module.exports = { useBoxEmulator };
