// DispatchDesk's automatic dispatch and routes in the browser against `jsmkit demo`: the
// preview changes nothing, applying it assigns and schedules in Jira (the simulator) as the
// dispatcher, and a technician's route can be scheduled in its shortest order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withDemo, jiraIssue } from "./harness.mjs";

const demo = withDemo();
const site = demo.site;
const signInAs = demo.signInAs;

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
  const base = demo.server.url.replace(/\/$/, "");
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
  const res = await page.goto(demo.server.url.replace(/\/$/, "") + "/dispatch/auto");
  assert.equal(res.status(), 403);
});
