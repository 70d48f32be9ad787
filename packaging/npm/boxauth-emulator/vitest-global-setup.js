'use strict';
// vitest `globalSetup`: starts one emulator for the run (or attaches to BOX_EMULATOR_URL) and
// provides its ready facts as `inject('boxEmulator')`; tests get the client with
// `await attachEmulator(inject('boxEmulator').base_url)` and reset it in `beforeEach`.

const { attachEmulator, startEmulator } = require('./index.js');

let emulator;

module.exports = async function setup({ provide }) {
  const url = process.env.BOX_EMULATOR_URL;
  emulator = url ? await attachEmulator(url) : await startEmulator();
  provide('boxEmulator', emulator.toJSON());
  return async () => { await emulator.stop(); };
};
