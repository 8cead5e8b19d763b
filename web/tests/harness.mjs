// Shared set-up of the browser tests: start the real jsmkit binary on a free port with a
// fresh data folder, and headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "../..");
// Resolved here: the demo runs in a temporary folder, where a relative path would not work.
const bin = path.resolve(process.env.JSMKIT_BIN || path.join(repo, "target/debug/jsmkit"));
export const shotsDir = path.join(repo, "web/test-results");

/** Starts `jsmkit demo` and resolves with { url, stop() } once it printed its address. */
export async function startDemo() {
  const dir = mkdtempSync(path.join(tmpdir(), "jsmkit-browser-"));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("JSMKIT_") && k !== "RUST_LOG"),
  );
  env.JSMKIT_SERVER_METRICS_LISTEN = "off";
  env.JSMKIT_SERVER_ASSETS_DIR = path.join(repo, "web/static");
  env.JSMKIT_LOG_FORMAT = "json";
  const child = spawn(bin, ["demo", "--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "data")], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = [];
  const stdout = [];
  createInterface({ input: child.stderr }).on("line", (l) => logs.push(l));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jsmkit demo did not start:\n${logs.join("\n")}`)), 60_000);
    child.on("exit", (code) => reject(new Error(`jsmkit demo exited with ${code}:\n${logs.join("\n")}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdout.push(line);
      const m = line.match(/http:\/\/[0-9.:]+\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
  return {
    url,
    logs,
    // Every line the demo printed (its banner: simulator URL and demo users with API tokens).
    stdout,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the flags this workplace needs (no network beyond loopback). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A page that records console errors and CSP violations; screenshot it on failure. */
export async function newPage(browser) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return { page, problems };
}

export async function screenshotOnFailure(t, page) {
  if (!page) return;
  mkdirSync(shotsDir, { recursive: true });
  const name = t.name.replace(/[^a-z0-9]+/gi, "-");
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true }).catch(() => {});
}
