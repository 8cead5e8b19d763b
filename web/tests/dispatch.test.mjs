// DispatchDesk in the browser against `jsmkit demo` (the demo sets DispatchDesk up on the
// simulated site): drag-and-drop assignment written to Jira, the assignee lock, another
// dispatcher's change appearing live, and a technician limited to their own data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withDemo, jiraIssue } from "./harness.mjs";

const demo = withDemo();
const site = demo.site;
const signInAs = demo.signInAs;

/** Drags `card` onto the list `target` with the mouse, in small steps. */
async function drag(page, card, target) {
  const from = await card.locator(".card-head").boundingBox();
  const to = await target.boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 10, from.y + from.height / 2 + 10, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + Math.min(to.height - 5, 30), { steps: 20 });
  await page.mouse.up();
}

test("a dispatcher drags a Planned ticket onto a technician and Jira has it Assigned", async () => {
  const s = await site();
  const dispatcher = s.users.find((u) => u.role === "dispatcher");
  const page = await signInAs(dispatcher.email, "/dispatch");
  const card = page.locator('ul[data-lane=""] li.card.phase-gray').first();
  await card.waitFor();
  const key = await card.getAttribute("data-key");
  assert.equal((await jiraIssue(s, key)).assignee, null, "unassigned before");
  // The first technician's lane sits next to the queue, in view.
  const techId = await page.locator("section.lane.tech ul.cards").first().getAttribute("data-lane");
  const tech = s.users.find((u) => u.accountId === techId);
  const lane = page.locator(`ul[data-lane="${tech.accountId}"]`);
  await drag(page, card, lane);
  await page.locator("#board-message").filter({ hasText: `${key} assigned to` }).waitFor();
  const after = await jiraIssue(s, key);
  assert.equal(after.assignee, tech.accountId);
  assert.equal(after.status, "10002", "moved to Assigned to Tech");
  // The refreshed board shows it in the technician's lane, in the Assigned phase.
  await lane.locator(`li.card.phase-indigo[data-key="${key}"]`).waitFor();
});

test("a locked ticket's assignee is not changed, with the reason shown", async () => {
  const s = await site();
  const dispatcher = s.users.find((u) => u.role === "dispatcher");
  const page = await signInAs(dispatcher.email, "/dispatch");
  const card = page.locator('li.card[data-locked="true"]').first();
  await card.waitFor();
  const key = await card.getAttribute("data-key");
  const before = await jiraIssue(s, key);
  // The accessible path: the card's "Assign to…" page, with suggestions and a plain form.
  await card.getByRole("link", { name: "Assign to…" }).click();
  await page.waitForURL((u) => u.pathname === `/dispatch/assign/${key}`);
  assert.match(await page.locator("main").innerText(), /Suggested for/);
  const select = page.locator("#account_id");
  const options = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
  const other = options.find((v) => v && v !== before.assignee);
  await select.selectOption(other);
  await page.getByRole("button", { name: "Assign" }).click();
  await page.waitForURL((u) => u.pathname === "/dispatch");
  assert.match(await page.locator("main .form-error").innerText(), /assignee is locked/);
  assert.deepEqual(await jiraIssue(s, key), before, "Jira unchanged");
});

test("another dispatcher's change appears on the board without a reload", async () => {
  const s = await site();
  const [d1, d2] = s.users.filter((u) => u.role === "dispatcher");
  const tech = s.users.filter((u) => u.role === "technician")[2];
  const watcher = await signInAs(d1.email, "/dispatch");
  const actor = await signInAs(d2.email, "/dispatch");
  const card = actor.locator('ul[data-lane=""] li.card.phase-gray').first();
  await card.waitFor();
  const key = await card.getAttribute("data-key");
  await card.getByRole("link", { name: "Assign to…" }).click();
  await actor.waitForURL((u) => u.pathname === `/dispatch/assign/${key}`);
  await actor.locator("#account_id").selectOption(tech.accountId);
  await actor.getByRole("button", { name: "Assign" }).click();
  await actor.waitForURL((u) => u.pathname === "/dispatch");
  assert.match(await actor.locator("main .notice").first().innerText(), /assigned/);
  // The watcher never reloads: the live refresh moves the card into the technician's lane.
  await watcher
    .locator(`ul[data-lane="${tech.accountId}"] li.card[data-key="${key}"]`)
    .waitFor({ timeout: 20_000 });
});

test("a technician sees only their own page and data", async () => {
  const s = await site();
  const [me, other] = s.users.filter((u) => u.role === "technician");
  const page = await signInAs(me.email, "/dispatch");
  await page.waitForURL((u) => u.pathname === "/dispatch/me");
  assert.match(await page.locator("main").innerText(), /My day/);
  await page.locator("select#status").selectOption("on_break");
  await page.getByRole("button", { name: "Set" }).click();
  await page.waitForURL((u) => u.pathname === "/dispatch/me");
  assert.match(await page.locator("#my-availability").innerText(), /On break/);
  const res = await page.goto(demo.server.url.replace(/\/$/, "") + `/dispatch/technicians/${other.accountId}`);
  assert.equal(res.status(), 403);
  const board = await page.goto(demo.server.url.replace(/\/$/, "") + "/dispatch/board/lanes");
  assert.equal(board.status(), 403, "no board data for technicians");
});
