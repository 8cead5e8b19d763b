// Shared set-up of the browser tests: start the real jsmkit binary on a free port with a
// fresh data folder, and headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { before, after, afterEach } from "node:test";
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

/** The demo's users ({ role, email, accountId, token }) and the simulator's URL, read from
 * the banner `server` (from startDemo) printed. */
export async function demoSite(server) {
  for (let i = 0; i < 100; i++) {
    const simLine = server.stdout.find((l) => l.startsWith("Simulated Atlassian site"));
    const users = server.stdout
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((cols) => cols.length === 4 && cols[1].includes("@"))
      .map(([role, email, accountId, token]) => ({ role, email, accountId, token }));
    if (simLine && users.some((u) => u.role === "viewer")) {
      return { sim: simLine.match(/http:\/\/[0-9.:]+/)[0], users };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no simulator banner in:\n${server.stdout.join("\n")}`);
}

/** Signs in as `email` through the simulator's consent page, starting at `path`, in a new
 * browser context; resolves with { context, page } once back on jsmkit. */
export async function signIn(browser, server, email, path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url.replace(/\/$/, "") + path);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${email}"]`).click();
  await page.waitForURL((u) => u.pathname !== "/authorize" && !u.pathname.startsWith("/oauth"));
  return { context, page };
}

/** An issue's assignee and status as Jira (the simulator) has them, read with the admin's
 * API token; `site` from demoSite. */
export async function jiraIssue(site, key) {
  const admin = site.users.find((u) => u.role === "admin");
  const auth = Buffer.from(`${admin.email}:${admin.token}`).toString("base64");
  const res = await fetch(`${site.sim}/rest/api/3/issue/${key}?fields=assignee,status`, {
    headers: { Authorization: `Basic ${auth}`, Accept: "application/json" },
  });
  if (res.status !== 200) throw new Error(`reading ${key} from the simulator: HTTP ${res.status}`);
  const issue = await res.json();
  return { assignee: issue.fields.assignee?.accountId ?? null, status: issue.fields.status.id };
}

/** Registers the hooks of a test file that drives one `jsmkit demo` in Chromium: start both
 * before, stop after, close each test's browser contexts (screenshot on failure). Returns
 * { server, site(), signInAs(email, path) }; `server` is set once the demo runs. */
export function withDemo() {
  const demo = { server: null, browser: null, contexts: [], lastPage: null };
  before(async () => {
    demo.server = await startDemo();
    demo.browser = await launchBrowser();
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.stop();
  });
  afterEach(async (t) => {
    if (demo.lastPage && t.passed === false) await screenshotOnFailure(t, demo.lastPage);
    for (const c of demo.contexts.splice(0)) await c.close();
  });
  demo.site = () => demoSite(demo.server);
  demo.signInAs = async (email, path) => {
    const { context, page } = await signIn(demo.browser, demo.server, email, path);
    demo.contexts.push(context);
    demo.lastPage = page;
    return page;
  };
  return demo;
}
