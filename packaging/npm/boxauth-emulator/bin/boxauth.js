#!/usr/bin/env node
'use strict';
// The `boxauth` command: runs the platform package's binary with the same arguments and exits
// with its code.
const { spawnSync } = require('node:child_process');
const { binaryPath } = require('../platform.js');

let binary;
try {
  binary = binaryPath();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
if (result.error) {
  console.error(`boxauth-emulator: could not run ${binary}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 128 + (require('node:os').constants.signals[result.signal] || 0));
