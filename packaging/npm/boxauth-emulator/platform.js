'use strict';
// Which platform package carries this machine's `boxauth` binary (the layout esbuild and biome
// use: one package per os/cpu/libc, an optional dependency of this one), and where the binary is.

const path = require('node:path');

function libc() {
  if (process.platform !== 'linux') return '';
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** `@boxauth/emulator-<os>-<cpu>[-<libc>]` for this machine. */
function platformPackage() {
  const suffix = libc() ? `-${libc()}` : '';
  return `@boxauth/emulator-${process.platform}-${process.arch}${suffix}`;
}

/** The binary's path: BOXAUTH_BIN, else the platform package's; a clear error when neither. */
function binaryPath() {
  if (process.env.BOXAUTH_BIN) return process.env.BOXAUTH_BIN;
  const name = platformPackage();
  const exe = process.platform === 'win32' ? 'boxauth.exe' : 'boxauth';
  try {
    return require.resolve(`${name}/bin/${exe}`);
  } catch {
    const { version, optionalDependencies } = require('./package.json');
    const known = Object.keys(optionalDependencies || {});
    const hint = known.includes(name)
      ? `Install it: npm install ${name}@${version} (it is an optional dependency of boxauth-emulator; ` +
        'installs with --omit=optional or --no-optional leave it out, and so can a lockfile made on another platform).'
      : `There is no build for this platform (${name}); the packages that exist are: ${known.join(', ')}. ` +
        'Set BOXAUTH_BIN to a boxauth binary built from source (cargo build -p boxauth-cli).';
    const error = new Error(`boxauth-emulator: the platform package ${name} is not installed. ${hint}`);
    error.code = 'BOXAUTH_PLATFORM_PACKAGE_MISSING';
    throw error;
  }
}

module.exports = { binaryPath, platformPackage, binDir: path.join(__dirname, 'bin') };
