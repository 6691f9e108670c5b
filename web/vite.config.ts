/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The API is always reached through relative /api/v1 URLs, so the same build works behind
// Vite's dev proxy, behind the Go server that serves web/dist, and in end-to-end tests.
const apiTarget = process.env.ATENDIMENTO_API_URL ?? 'http://localhost:8080'

export default defineConfig({
  plugins: [react()],
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
