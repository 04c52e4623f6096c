import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// Served by the Koa service under /console/ (src/consoleStatic.ts); the dev server proxies the API.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Element Plus and Vue are needed by every page: one cached chunk; ECharts and exceljs
        // stay in the lazy chunks of the pages that use them.
        manualChunks(id: string) {
          if (/node_modules\/(vue|@vue|vue-router|pinia)\//.test(id)) return 'vue';
          return undefined;
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
  test: { root: import.meta.dirname, include: ['tests/**/*.test.ts'], environment: 'node' },
} as Parameters<typeof defineConfig>[0]);
