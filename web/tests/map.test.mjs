// DispatchDesk's map of the day in the browser against `jsmkit demo`: one marker per located
// ticket of the data endpoint, the six phases in the legend, a popup with the ticket's key,
// no CSP violations, and a technician sent to their own page.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launchBrowser, screenshotOnFailure } from "./harness.mjs";

let server;
let browser;
const contexts = [];
let lastPage;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(async (t) => {
  if (lastPage && t.passed === false) await screenshotOnFailure(t, lastPage);
  for (const c of contexts.splice(0)) await c.close();
});

/** The demo's users, from its banner. */
async function users() {
  for (let i = 0; i < 100; i++) {
    const found = server.stdout
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((cols) => cols.length === 4 && cols[1].includes("@"))
      .map(([role, email, accountId]) => ({ role, email, accountId }));
    if (found.some((u) => u.role === "viewer")) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no users in the banner:\n${server.stdout.join("\n")}`);
}

/** Signs in through the simulator's consent page, starting at `path`; records problems. */
async function signInAs(email, path) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  lastPage = page;
  const problems = [];
  page.on("console", (msg) => {
    // Browsers ask every origin (the simulator's sign-in pages too) for a favicon.
    if (msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico")) {
      problems.push(`${msg.text()} (${msg.location().url})`);
    }
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() === 404) problems.push(`404: ${res.url()}`);
  });
  await page.goto(server.url.replace(/\/$/, "") + path);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${email}"]`).click();
  await page.waitForURL((u) => u.pathname !== "/authorize" && !u.pathname.startsWith("/oauth"));
  return { page, problems };
}

test("a dispatcher's map draws every located ticket, the legend and popups", async () => {
  const dispatcher = (await users()).find((u) => u.role === "dispatcher");
  const { page, problems } = await signInAs(dispatcher.email, "/dispatch/map");
  await page.waitForURL((u) => u.pathname === "/dispatch/map");
  const map = page.locator("#day-map");
  await page.locator("#day-map[data-tickets]").waitFor({ state: "attached" });

  // The same data the page fetched, asked for again from the page's own origin.
  const data = await page.evaluate(async () => {
    const res = await fetch(document.getElementById("day-map").dataset.source, {
      headers: { Accept: "application/json" },
    });
    return res.json();
  });
  assert.ok(data.tickets.length > 0, "the demo's day has located tickets");
  const markers = map.locator("path.ticket-marker");
  assert.equal(await markers.count(), data.tickets.length, "one marker per located ticket");
  assert.equal(await map.getAttribute("data-tickets"), String(data.tickets.length));
  // Each phase's markers carry its colour class.
  for (const t of data.tickets.slice(0, 5)) {
    assert.match(await map.locator(`path[data-key="${t.key}"]`).getAttribute("class"), new RegExp(`phase-${t.colour}`));
  }
  const placed = data.technicians.filter((t) => t.position);
  assert.equal(await map.locator(".tech-marker").count(), placed.length, "one pin per placed technician");
  assert.equal(
    await map.locator("path.tech-route").count(),
    data.technicians.filter((t) => t.route.length > 1).length,
    "one route per technician with somewhere to go",
  );

  const legend = await page.locator(".map-legend li.legend-phase").allInnerTexts();
  assert.deepEqual(
    legend.map((s) => s.trim()),
    ["Planned", "Assigned", "Travelling", "On Site", "Paused", "Done"],
  );
  assert.match(await page.locator("#map-no-tiles").innerText(), /No map tiles are configured/);
  assert.match(await page.locator("#map-status").innerText(), /Updated .* tickets on the map/);

  // A real click on a marker nothing covers opens its popup with the key linking to "Assign to…".
  const target = await page.evaluate(() => {
    for (const path of document.querySelectorAll("#day-map path.ticket-marker")) {
      const r = path.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (r.width > 0 && document.elementFromPoint(x, y) === path) return { key: path.dataset.key, x, y };
    }
    return null;
  });
  assert.ok(target, "some marker is clickable");
  await page.mouse.click(target.x, target.y);
  const popup = page.locator(".leaflet-popup-content");
  await popup.waitFor();
  const key = popup.locator("a.popup-key");
  assert.equal(await key.innerText(), target.key);
  assert.equal(await key.getAttribute("href"), `/dispatch/assign/${target.key}?day=${data.day}`);
  const ticket = data.tickets.find((t) => t.key === target.key);
  assert.match(await popup.innerText(), new RegExp(ticket.label));

  // From the keyboard: a ticket marker takes focus and Enter opens its popup.
  await page.keyboard.press("Escape");
  const other = data.tickets.find((t) => t.key !== target.key);
  const focused = map.locator(`path[data-key="${other.key}"]`);
  assert.equal(await focused.getAttribute("role"), "button");
  assert.match(await focused.getAttribute("aria-label"), new RegExp(`^${other.key}: `));
  await focused.focus();
  await page.keyboard.press("Enter");
  await page.locator(".leaflet-popup-content a.popup-key").filter({ hasText: other.key }).waitFor();

  // A technician's pin opens their popup, which links to their route of the day.
  const tech = placed[0];
  await page.keyboard.press("Escape");
  const pin = map.locator(".tech-marker").filter({ hasText: tech.initials }).first();
  await pin.click({ force: true });
  const route = page.locator(".leaflet-popup-content a.popup-route");
  await route.waitFor();
  assert.match(
    await route.getAttribute("href"),
    new RegExp(`^/dispatch/route\\?tech=[^&]+&day=${data.day}$`),
  );

  // The listing below the map has every ticket, and links back to the board keep the day.
  assert.equal(await page.locator("table.map-tickets tbody tr").count(), data.tickets.length + data.unlocated.length);
  assert.equal(await page.locator("#back-to-board").getAttribute("href"), `/dispatch?day=${data.day}`);
  assert.deepEqual(problems, [], "no script errors or CSP violations");
});

test("the board links to the map of its day and filters", async () => {
  const dispatcher = (await users()).find((u) => u.role === "dispatcher");
  const { page } = await signInAs(dispatcher.email, "/dispatch?project=FAC");
  await page.waitForURL((u) => u.pathname === "/dispatch");
  await page.locator("#map-link").click();
  await page.waitForURL((u) => u.pathname === "/dispatch/map");
  assert.equal(new URL(page.url()).searchParams.get("project"), "FAC");
  await page.locator("#day-map[data-tickets]").waitFor({ state: "attached" });
  const keys = await page.locator("#day-map path.ticket-marker").evaluateAll((ps) => ps.map((p) => p.dataset.key));
  assert.ok(keys.length > 0);
  assert.ok(keys.every((k) => k.startsWith("FAC-")), keys.join(","));
  const day = new URL(page.url()).searchParams.get("day");
  await page.getByRole("link", { name: "Next day →" }).click();
  await page.waitForURL((u) => u.searchParams.get("day") !== day);
  const next = new URL(page.url()).searchParams;
  assert.equal(next.get("project"), "FAC", "the filters stay");
  assert.ok(next.get("day") > day, `${next.get("day")} follows ${day}`);
});

test("a technician opening the map lands on their own page", async () => {
  const tech = (await users()).find((u) => u.role === "technician");
  const { page } = await signInAs(tech.email, "/dispatch/map");
  await page.waitForURL((u) => u.pathname === "/dispatch/me");
  assert.match(await page.locator("main").innerText(), /My day/);
});

// Last: it leaves a tile server set on this demo.
test("an admin's tile server is drawn from, with its attribution as plain text", async () => {
  const all = await users();
  const admin = all.find((u) => u.role === "admin");
  const { page: settings } = await signInAs(admin.email, "/settings/dispatch");
  await settings.waitForURL((u) => u.pathname === "/settings/dispatch");
  const payload = `<img src=x onerror="alert('tiles')">© Example & co`;
  await settings.locator("#map-form #tile_url").fill("http://tiles.example.invalid/{z}/{x}/{y}.png");
  await settings.locator("#map-form").getByRole("button", { name: "Save map tiles" }).click();
  await settings.locator("#tile_url-error").waitFor();
  assert.match(await settings.locator("#tile_url-error").innerText(), /must start with https:\/\//);
  await settings.locator("#map-form #tile_url").fill("https://{s}.tiles.example.invalid/{z}/{x}/{y}.png");
  await settings.locator("#map-form #tile_attribution").fill(payload);
  await settings.locator("#map-form").getByRole("button", { name: "Save map tiles" }).click();
  await settings.locator("main .notice", { hasText: "Map tiles saved." }).waitFor();
  assert.equal(await settings.locator("#map-form #tile_attribution").inputValue(), payload);

  const dispatcher = all.find((u) => u.role === "dispatcher");
  const { page } = await signInAs(dispatcher.email, "/dispatch");
  let dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  const res = await page.goto(server.url.replace(/\/$/, "") + "/dispatch/map");
  assert.match(res.headers()["content-security-policy"], /img-src 'self' data: https:\/\/\*\.tiles\.example\.invalid;/);
  await page.locator("#day-map[data-tickets]").waitFor({ state: "attached" });
  assert.equal(await page.locator("#map-no-tiles").count(), 0);
  const attribution = page.locator("#day-map .map-attribution");
  assert.equal(await attribution.innerText(), payload, "shown as text");
  assert.equal(await page.locator("#day-map .map-attribution img").count(), 0, "not parsed as HTML");
  const tile = await page.locator("#day-map img.leaflet-tile").first().getAttribute("src");
  assert.match(tile, /^https:\/\/[abc]\.tiles\.example\.invalid\/\d+\/\d+\/\d+\.png$/);
  assert.equal(dialogs, 0);
});
