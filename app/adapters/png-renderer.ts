import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { initWasm, Resvg } from '@resvg/resvg-wasm';

/** SVG → PNG, for pictures Slack shows (the digest's chart). */
export interface PngRenderer {
  render(svg: string): Promise<Uint8Array>;
}

/**
 * The files the renderer needs: resvg compiled to WebAssembly (one build for x86 and arm64 Lambda
 * alike, nothing native to install) and the font the charts name (resvg-wasm reads no system fonts).
 * Beside this module in the daily-digest bundle, which ships them under these names
 * (BUNDLE_ASSETS in infra/constructs/handler-function.ts); otherwise, in the source tree, from node_modules.
 */
const ASSETS = {
  wasm: ['resvg.wasm', '@resvg/resvg-wasm/index_bg.wasm'],
  fonts: [
    ['Roboto-Regular.ttf', '@expo-google-fonts/roboto/400Regular/Roboto_400Regular.ttf'],
    ['Roboto-Bold.ttf', '@expo-google-fonts/roboto/700Bold/Roboto_700Bold.ttf'],
  ],
} as const;

/** resvg's WebAssembly module can be set up once per process; a failed set-up is tried again. */
let wasmReady: Promise<void> | undefined;

/** Renders with resvg (WebAssembly): the same pixels on every machine, no browser, no system fonts. */
export class ResvgPngRenderer implements PngRenderer {
  #fonts: Promise<Uint8Array[]> | undefined;

  async render(svg: string): Promise<Uint8Array> {
    const fonts = await this.#load();
    const resvg = new Resvg(svg, {
      font: { fontBuffers: fonts, loadSystemFonts: false, defaultFontFamily: 'Roboto' },
      // Whole-pixel bars stay crisp; text keeps its anti-aliasing.
      shapeRendering: 1,
    } as ConstructorParameters<typeof Resvg>[1]);
    try {
      const image = resvg.render();
      try {
        return image.asPng();
      } finally {
        image.free();
      }
    } finally {
      resvg.free();
    }
  }

  #load(): Promise<Uint8Array[]> {
    wasmReady ??= readFile(asset(...ASSETS.wasm))
      .then((bytes) => initWasm(bytes))
      .catch((error: unknown) => {
        wasmReady = undefined;
        throw error;
      });
    this.#fonts ??= Promise.all(ASSETS.fonts.map(([beside, inPackage]) => readFile(asset(beside, inPackage)))).catch(
      (error: unknown) => {
        this.#fonts = undefined;
        throw error;
      },
    );
    return wasmReady.then(() => this.#fonts as Promise<Uint8Array[]>);
  }
}

function asset(beside: string, inPackage: string): string {
  const bundled = fileURLToPath(new URL(beside, import.meta.url));
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve(inPackage);
  } catch (error) {
    // A bundle that lacks it: say which file, where it was looked for, and who ships it.
    throw new Error(
      `The PNG renderer needs ${beside}, found neither at ${bundled} nor as ${inPackage}: a bundle ships it beside itself (BUNDLE_ASSETS in infra/constructs/handler-function.ts)`,
      { cause: error },
    );
  }
}
