// Playwright for the e2e suite: Debian's Chromium (never a downloaded browser), software WebGL2
// through ANGLE + SwiftShader so the viewer's GPU path runs headless on build machines.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: ['browser.spec.ts', 'review.spec.ts', 'viewer.spec.ts', 'research-tools.spec.ts', 'study-browser.spec.ts', 'electron.spec.ts'],
  outputDir: 'test-results',
  // Each spec starts its own server or app; one at a time keeps ports, CPU and logs simple.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    viewport: { width: 1440, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--use-gl=angle',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
      ],
    },
  },
});
