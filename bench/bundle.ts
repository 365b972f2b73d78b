import { build } from 'esbuild';
import {
  HANDLER_BUNDLING,
  type HandlerName,
  UNUSED_BOLT_PACKAGES,
  UNUSED_PACKAGE_STUB,
} from '../infra/constructs/handler-function.ts';

/** Bundles a handler into `outfile` as the stack deploys it: esbuild with the stack's options (ESM, minified). */
export async function bundleAsDeployed(name: HandlerName, outfile: string): Promise<void> {
  await build({
    entryPoints: [`handlers/${name}.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: HANDLER_BUNDLING.target ?? 'node24',
    minify: true,
    external: [...(HANDLER_BUNDLING.externalModules ?? [])],
    alias: Object.fromEntries(UNUSED_BOLT_PACKAGES.map((name) => [name, UNUSED_PACKAGE_STUB])),
    mainFields: [...(HANDLER_BUNDLING.mainFields ?? [])],
    ...(HANDLER_BUNDLING.banner ? { banner: { js: HANDLER_BUNDLING.banner } } : {}),
    logLevel: 'silent',
  });
}
