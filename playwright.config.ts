import { defineConfig, devices } from "@playwright/test";

// End-to-end tests against the production build in Debian's Chromium (Playwright's
// own browser downloads are unreachable here). Port 3100 keeps clear of a
// developer's app on 3000.

const port = Number(process.env.E2E_PORT ?? 3100);
// next-auth and the server's Origin check compare against APP_URL, so the browser
// must use exactly this origin (localhost, not 127.0.0.1).
const appUrl = `http://localhost:${port}`;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: appUrl,
    colorScheme: "light",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          // The machine has only loopback; Chrome's background services would
          // fill the logs with refused connections.
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "node scripts/e2e-server.mjs",
    url: `http://127.0.0.1:${port}/api/health`,
    env: { PORT: String(port), APP_URL: appUrl },
    reuseExistingServer: false,
    // Includes the production build.
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
    // SIGTERM lets the server close the embedded database and the script remove its data directory.
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
  },
});
