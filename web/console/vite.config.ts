import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The console is served by the server at /console (src/surfaces/console/pages.ts) from dist/,
// built by `npm install` / `npm ci` (the package's postinstall). No inline script or style ends up
// in index.html, so the pages run under a strict Content-Security-Policy.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The module-preload polyfill would be fine (it is bundled, not inline); modern browsers need none.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
})
