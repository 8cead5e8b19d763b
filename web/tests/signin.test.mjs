// Signing in for real in the demo: jsmkit → the simulator's consent page → back with a
// session; what an admin and a technician may see; signing out.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launchBrowser, screenshotOnFailure } from "./harness.mjs";

let server;
let browser;
let context;
let page;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(async (t) => {
  if (page && t.passed === false) await screenshotOnFailure(t, page);
  await context?.close();
  context = undefined;
  page = undefined;
});

/** Opens `path` anonymously, follows sign-in through the simulator as `email`. */
async function signInAs(email, path) {
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(server.url.replace(/\/$/, "") + path);
  await page.waitForURL((u) => u.pathname === "/login");
  assert.equal(new URL(page.url()).searchParams.get("next"), path);
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  // The simulator's consent page lists the demo users.
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${email}"]`).click();
  await page.waitForURL((u) => u.pathname === path);
}

test("an admin signs in through the simulator and reaches the audit log", async () => {
  await signInAs("admin@irwell-field.example", "/settings/audit");
  assert.equal(await page.locator("main h1").count(), 1);
  assert.match(await page.locator("main h1").innerText(), /audit/i);
  // The sign-in itself is the newest audit entry.
  const log = await page.locator("main").innerText();
  assert.match(log, /sign_in/);
  assert.match(log, /Alex Morgan/);
  // The layout shows who is signed in, with a sign-out form carrying the CSRF token.
  assert.match(await page.locator("header").innerText(), /Alex Morgan/);
  const hxHeaders = await page.locator("body").getAttribute("hx-headers:inherited");
  assert.ok(hxHeaders && JSON.parse(hxHeaders)["X-CSRF-Token"], "no CSRF header for htmx");
});

test("a technician is signed in but may not read the audit log", async () => {
  await signInAs("leo.ashworth@irwell-field.example", "/settings/audit");
  // Same page, refused: 403 rendered in the layout, with the reason.
  const res = await page.reload();
  assert.equal(res.status(), 403);
  assert.match(await page.locator("main").innerText(), /admin/i);
});

test("signing out ends the session", async () => {
  await signInAs("admin@irwell-field.example", "/settings/audit");
  await page.getByRole("button", { name: /sign out/i }).click();
  await page.goto(server.url.replace(/\/$/, "") + "/settings/audit");
  await page.waitForURL((u) => u.pathname === "/login");
});
