import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The Lambda bundles a test imports (cdk.out's asset.<hash>/index.mjs) load as Lambda loads them, by
    // Node, not through Vite, which would warn that their source maps name sources packages do not ship.
    server: { deps: { external: [/\/asset\.[0-9a-f]{64}\/index\.mjs$/] } },
    env: {
      // The SDK warns once per process that its 2027 releases need Node 22; the tests pin the SDK,
      // so on Node 20 the warning says nothing a test run can act on (CI also runs on Node 24).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    coverage: { include: ['app/core/**'] },
  },
});
