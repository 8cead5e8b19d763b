// TechDesk in the demo, as a technician: the queue, a ticket, an internal and a public
// comment, the timer, a transition, linked Assets, a request through a generated form (a
// validation error first). Every change is read back from the simulator's REST API, and
// attack payloads put into Jira data stay inert.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startDemo, launchBrowser, newPage, screenshotOnFailure, repo } from "./harness.mjs";

const TECH = "leo.ashworth@irwell-field.example";

let server;
let browser;
let context;
let page;
let problems;
let dialogs;
let sim;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
  sim = await simulator();
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

const base = () => server.url.replace(/\/$/, "");

/** The simulator's URL and the demo users (email → {accountId, token}) from the banner. */
async function simulator() {
  for (let i = 0; i < 100; i += 1) {
    const lines = server.stdout;
    const site = lines.map((l) => l.match(/Simulated Atlassian site[^:]*: (http:\/\/[0-9.:]+)/)).find(Boolean);
    const users = new Map();
    for (const l of lines) {
      const cols = l.trim().split(/\s{2,}/);
      if (cols.length === 4 && cols[1].includes("@")) users.set(cols[1], { role: cols[0], accountId: cols[2], token: cols[3] });
    }
    if (site && [...users.values()].some((u) => u.role === "admin")) return { url: site[1], users };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no simulator banner:\n${server.stdout.join("\n")}`);
}

/** A REST call to the simulator as the demo admin (basic auth). */
async function jira(method, p, body) {
  const [email, admin] = [...sim.users.entries()].find(([, u]) => u.role === "admin");
  const resp = await fetch(sim.url + p, {
    method,
    headers: {
      authorization: "Basic " + Buffer.from(`${email}:${admin.token}`).toString("base64"),
      "content-type": "application/json",
      accept: "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  assert.ok(resp.ok, `${method} ${p}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const issue = (key) => jira("GET", `/rest/api/3/issue/${key}?fields=summary,status,comment,worklog,customfield_10060,assignee`);

async function signIn(target) {
  context = await browser.newContext();
  ({ page, problems } = await newPageIn(context));
  dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  await page.goto(base() + target);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${TECH}"]`).click();
  await page.waitForURL((u) => u.pathname === target);
}

async function newPageIn(ctx) {
  const fake = { newPage: () => ctx.newPage() };
  return newPage(fake);
}

/** Open tickets assigned to the technician, with their Assets links. */
async function myTickets() {
  const me = sim.users.get(TECH).accountId;
  const found = await jira("POST", "/rest/api/3/search/jql", {
    jql: `assignee = "${me}" AND statusCategory != "Done" ORDER BY created ASC`,
    fields: ["customfield_10060", "customfield_10010"],
    maxResults: 100,
  });
  return found.issues;
}

function cspProblems() {
  return problems.filter((p) => /Content Security Policy|pageerror/i.test(p));
}

test("a technician works a ticket: comments, timer, transition", async () => {
  const tickets = await myTickets();
  const key = tickets.find((i) => i.fields.customfield_10010)?.key ?? tickets[0].key;
  await signIn("/techdesk");
  assert.match(await page.locator("h1").innerText(), /My work/);
  await page.locator(`a[href="/techdesk/tickets/${key}"]`).first().click();
  await page.waitForURL((u) => u.pathname === `/techdesk/tickets/${key}`);
  const before = await issue(key);
  const comments = before.fields.comment.comments.length;

  await page.locator("#comment").fill("Internal: parts ordered");
  await page.getByLabel("Internal (agents only)").check();
  await page.getByRole("button", { name: "Add comment" }).click();
  await page.waitForURL((u) => u.search.includes("done=comment"));
  await page.locator("#comment").fill("Public: we are on our way");
  await page.getByLabel("Public (the customer sees it)").check();
  await page.getByRole("button", { name: "Add comment" }).click();
  await page.waitForURL((u) => u.search.includes("done=comment"));
  let now = await issue(key);
  const added = now.fields.comment.comments.slice(comments);
  assert.equal(added.length, 2);
  assert.equal(added[0].jsdPublic, false);
  assert.equal(added[1].jsdPublic, true);
  assert.match(await page.locator(".td-comment.internal").last().innerText(), /parts ordered/);

  const worklogs = now.fields.worklog.worklogs.length;
  await page.locator("#timer-start").click();
  await page.waitForURL((u) => u.search.includes("done=timer"));
  await page.reload();
  await page.locator("#timer-stop").waitFor();
  await page.locator("#timer_comment").fill("On site");
  await page.locator("#timer-stop").click();
  await page.waitForURL((u) => u.search.includes("done=worklog"));
  now = await issue(key);
  assert.equal(now.fields.worklog.worklogs.length, worklogs + 1);

  const status = now.fields.status.name;
  const forms = page.locator("form.td-transition");
  const count = await forms.count();
  let clicked = false;
  for (let i = 0; i < count && !clicked; i += 1) {
    const form = forms.nth(i);
    if ((await form.locator("select, input[type=text]").count()) === 0) {
      await form.getByRole("button").click();
      clicked = true;
    }
  }
  assert.ok(clicked, "a transition without required fields");
  await page.waitForURL((u) => u.search.includes("done=transition"));
  now = await issue(key);
  assert.notEqual(now.fields.status.name, status);
  assert.equal(await page.locator("#status").innerText(), now.fields.status.name);
  assert.deepEqual(cspProblems(), []);
});

test("linked Assets objects are shown", async () => {
  const withAssets = (await myTickets()).find((i) => (i.fields.customfield_10060 ?? []).length > 0);
  assert.ok(withAssets, "a ticket with Assets");
  const objectId = withAssets.fields.customfield_10060[0].objectId;
  await signIn(`/techdesk/tickets/${withAssets.key}`);
  const object = page.locator(`.td-object[data-object-id="${objectId}"]`);
  await object.waitFor();
  assert.ok((await object.locator("dt").count()) > 0, "attributes listed");
});

test("a request through the generated form: a validation error, then success", async () => {
  await signIn("/techdesk/requests/new");
  await page.getByLabel("Service desk").selectOption({ label: "Field Service" });
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Request type").selectOption({ label: "Repair visit" });
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("#f_summary").fill("Browser test: leaking tap");
  await page.getByRole("button", { name: "Create request" }).click();
  await page.locator("#f_customfield_10053-error").waitFor();
  assert.equal(await page.locator("#f_summary").inputValue(), "Browser test: leaking tap");
  await page.locator("#f_customfield_10053").fill("3 Canal Street");
  await page.locator("#f_customfield_10055").fill("M1 3HE");
  await page.getByRole("button", { name: "Create request" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/techdesk/tickets/FS-") && u.search.includes("done=created"));
  const key = new URL(page.url()).pathname.split("/").pop();
  const created = await issue(key);
  assert.equal(created.fields.summary, "Browser test: leaking tap");
  assert.deepEqual(cspProblems(), []);
});

test("attack payloads in Jira data stay inert", async () => {
  const shared = process.env.JSMKIT_SHARED_DIR || path.join(repo, "../shared");
  const file = path.join(shared, "data/payloads/fuzzdb-xss-other.txt");
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length > 50, "attack corpus looks truncated");
  const risky = lines.filter((l) => /<(img|script|svg|iframe|body)/i.test(l) && l.length < 200).slice(0, 6);
  assert.ok(risky.length >= 3);
  const key = (await myTickets())[0].key;
  await jira("PUT", `/rest/api/3/issue/${key}`, {
    fields: {
      summary: risky[0],
      customfield_10053: risky[1],
      description: {
        type: "doc",
        version: 1,
        content: risky.map((p) => ({
          type: "paragraph",
          content: [
            { type: "text", text: p },
            { type: "text", text: " link", marks: [{ type: "link", attrs: { href: "javascript:alert(1)" } }] },
          ],
        })),
      },
    },
  });
  for (const p of risky.slice(2)) {
    await jira("POST", `/rest/api/3/issue/${key}/comment`, {
      body: { type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text: p }] }] },
    });
  }
  await signIn(`/techdesk/tickets/${key}`);
  assert.equal(await page.locator("#summary").innerText(), risky[0]);
  assert.equal(await page.locator("main img, main svg, main iframe").count(), 0);
  assert.equal(await page.locator('main a[href^="javascript:"]').count(), 0);
  await page.goto(base() + "/techdesk");
  assert.equal(await page.locator("main img, main svg, main iframe").count(), 0);
  assert.equal(dialogs, 0, "no script ran");
  assert.deepEqual(cspProblems(), []);
});
