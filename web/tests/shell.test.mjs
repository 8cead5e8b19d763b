// The web shell in a real browser: layout, navigation, htmx loaded under the strict CSP,
// escaping of echoed input, keyboard access.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launchBrowser, newPage, screenshotOnFailure } from "./harness.mjs";

let server;
let browser;
let current;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(async (t) => {
  if (current && t.passed === false) await screenshotOnFailure(t, current.page);
  await current?.page.close();
  current = undefined;
});

test("home page shows the three apps and navigation, with no console errors", async () => {
  current = await newPage(browser);
  const { page, problems } = current;
  await page.goto(server.url);
  assert.match(await page.title(), /jsmkit/);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["TechDesk", "DispatchDesk", "Assets to SQL", "Settings"]) {
    assert.equal(await nav.getByRole("link", { name }).count(), 1, `nav lacks ${name}`);
  }
  // htmx 4 and the app module ran under `script-src 'self'`.
  assert.equal(await page.evaluate(() => typeof window.htmx), "object");
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("js")), true);
  assert.deepEqual(problems, []);
});

test("every section link leads an anonymous visitor to sign in, and back there after", async () => {
  current = await newPage(browser);
  const { page, problems } = current;
  for (const [name, path] of [
    ["TechDesk", "/techdesk"],
    ["DispatchDesk", "/dispatch"],
    ["Assets to SQL", "/assets-sql"],
    ["Settings", "/settings"],
  ]) {
    await page.goto(server.url);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
    // The apps' pages need a signed-in user: the sign-in page remembers where to go next.
    await page.waitForURL((u) => u.pathname === "/login");
    assert.equal(new URL(page.url()).searchParams.get("next"), path);
    assert.equal(await page.locator("main h1").count(), 1);
  }
  assert.deepEqual(problems, []);
});

test("an unknown path echoed on the 404 page stays inert text", async () => {
  current = await newPage(browser);
  const { page } = current;
  let dialog = false;
  page.on("dialog", async (d) => {
    dialog = true;
    await d.dismiss();
  });
  const payload = "/x<img src=x onerror=alert(1)><script>alert(2)</script>";
  const res = await page.goto(server.url.replace(/\/$/, "") + payload);
  assert.equal(res.status(), 404);
  // Shown as the literal text the user typed, not as markup.
  assert.match(await page.locator("main").innerText(), /<img src=x onerror=alert\(1\)><script>/);
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(await page.locator("main script").count(), 0);
  assert.equal(dialog, false);
});

test("the skip link moves keyboard focus to the main content", async () => {
  current = await newPage(browser);
  const { page } = current;
  await page.goto(server.url);
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.match(focused, /skip/i);
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => location.hash), "#main");
});
