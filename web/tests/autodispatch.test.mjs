// DispatchDesk's automatic dispatch and routes in the browser against `jsmkit demo`: the
// preview changes nothing, applying it assigns and schedules in Jira (the simulator) as the
// dispatcher, and a technician's route can be scheduled in its shortest order.
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

/** The demo's users and simulator URL, from its banner. */
async function site() {
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

async function signInAs(email, path) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  lastPage = page;
  await page.goto(server.url.replace(/\/$/, "") + path);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${email}"]`).click();
  await page.waitForURL((u) => u.pathname !== "/authorize" && !u.pathname.startsWith("/oauth"));
  return page;
}

/** An issue as Jira (the simulator) has it, read with the admin's API token. */
async function jiraIssue(s, key) {
  const admin = s.users.find((u) => u.role === "admin");
  const auth = Buffer.from(`${admin.email}:${admin.token}`).toString("base64");
  const res = await fetch(`${s.sim}/rest/api/3/issue/${key}?fields=assignee,status`, {
    headers: { Authorization: `Basic ${auth}`, Accept: "application/json" },
  });
  assert.equal(res.status, 200);
  const issue = await res.json();
  return { assignee: issue.fields.assignee?.accountId ?? null, status: issue.fields.status.id };
}

/** A weekday at least two days ahead: its whole working day is still to plan. */
function planningDay() {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + 2);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

test("a dispatcher previews the automatic plan, applies it, and Jira has every job assigned", async () => {
  const s = await site();
  const dispatcher = s.users.find((u) => u.role === "dispatcher");
  const day = planningDay();
  const page = await signInAs(dispatcher.email, `/dispatch/auto?day=${day}`);
  const rows = page.locator("table.auto-plan tbody tr");
  await rows.first().waitFor();
  const keys = await rows.locator("td:first-child a").allInnerTexts();
  assert.ok(keys.length > 0, "the demo's queue gets a plan");
  for (const key of keys) {
    assert.equal((await jiraIssue(s, key)).assignee, null, `${key} unassigned before`);
  }
  await page.getByRole("button", { name: /Assign and schedule these/ }).click();
  await page.locator("main .notice").filter({ hasText: "jobs assigned and scheduled in Jira" }).waitFor();
  const results = await page.locator("ul.results li.ok").allInnerTexts();
  assert.equal(results.length, keys.length, results.join("\n"));
  const techs = new Set(s.users.map((u) => u.accountId));
  for (const key of keys) {
    const after = await jiraIssue(s, key);
    assert.ok(techs.has(after.assignee), `${key} assigned to a technician`);
    assert.equal(after.status, "10002", `${key} moved to Assigned to Tech`);
  }
  // A technician's day after the plan: the shortest order can be scheduled in Jira.
  // A technician's day that can be shorter (the seeded days are in booking order): the
  // shortest order is scheduled in Jira.
  const base = server.url.replace(/\/$/, "");
  let found = false;
  for (const t of s.users.filter((u) => u.role === "technician")) {
    await page.goto(`${base}/dispatch/route?tech=${encodeURIComponent(t.accountId)}&day=${day}`);
    if ((await page.getByRole("button", { name: "Schedule this order in Jira" }).count()) > 0) {
      found = true;
      break;
    }
  }
  assert.ok(found, "a day that can be shortened");
  await page.getByRole("heading", { name: "Shortest order from now" }).waitFor();
  await page.getByRole("button", { name: "Schedule this order in Jira" }).click();
  await page.locator("main .notice").filter({ hasText: "jobs rescheduled in Jira" }).waitFor();
});

test("a technician cannot open automatic dispatch", async () => {
  const s = await site();
  const tech = s.users.find((u) => u.role === "technician");
  const page = await signInAs(tech.email, "/dispatch/me");
  const res = await page.goto(server.url.replace(/\/$/, "") + "/dispatch/auto");
  assert.equal(res.status(), 403);
});
