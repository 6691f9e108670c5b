/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'

// precompress writes a .br and a .gz beside each text file of the build (over 1 KiB, when smaller),
// compressed once at their strongest, so the Go server sends them as they are instead of
// compressing on every request.
function precompress(): Plugin {
  let outDir = 'dist'
  return {
    name: 'atendimento-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name)
          return statSync(path).isDirectory() ? walk(path) : [path]
        })
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|txt|map)$/.test(file)) continue
        const raw = readFileSync(file)
        if (raw.length < 1024) continue
        const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
        const gz = gzipSync(raw, { level: 9 })
        if (br.length < raw.length) writeFileSync(file + '.br', br)
        if (gz.length < raw.length) writeFileSync(file + '.gz', gz)
      }
    },
  }
}

// The API is always reached through relative /api/v1 URLs, so the same build works behind
// Vite's dev proxy, behind the Go server that serves web/dist, and in end-to-end tests.
const apiTarget = process.env.ATENDIMENTO_API_URL ?? 'http://localhost:8080'

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    // A fixed zone makes the local-time → UTC conversions in the tests deterministic.
    env: { TZ: 'America/Sao_Paulo' },
    restoreMocks: true,
    unstubGlobals: true,
    // Whole flows through the UI; generous for a loaded 2-core CI machine.
    testTimeout: 20_000,
  },
})
