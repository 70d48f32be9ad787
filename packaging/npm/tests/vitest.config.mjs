import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['sdk.vitest.test.mjs'],
    globalSetup: ['boxauth-emulator/vitest-global-setup'],
  },
});
