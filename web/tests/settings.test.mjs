// The settings pages in the demo: an admin adds an allow-list group and a role assignment
// through the forms (a validation error first), attack payloads stay literal text, a POST
// without the CSRF token is refused, and a technician is refused.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startDemo, launchBrowser, screenshotOnFailure, repo } from "./harness.mjs";

let server;
let browser;
let context;
let page;
let dialogs;

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

const base = () => server.url.replace(/\/$/, "");

/** Opens `target` anonymously and signs in through the simulator as `email`. */
async function signInAs(email, target) {
  context = await browser.newContext();
  page = await context.newPage();
  dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  await page.goto(base() + target);
  await page.waitForURL((u) => u.pathname === "/login");
  await page.getByRole("link", { name: "Sign in with Atlassian" }).click();
  await page.waitForURL((u) => u.pathname === "/authorize");
  await page.locator(`button[data-email="${email}"]`).click();
  await page.waitForURL((u) => u.pathname === target);
}

/** A few payloads of the attack corpus (the file must exist). */
function payloads() {
  const shared = process.env.JSMKIT_SHARED_DIR || path.join(repo, "../shared");
  const file = path.join(shared, "data/payloads/fuzzdb-xss-other.txt");
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  assert.ok(lines.length > 50, "attack corpus looks truncated");
  const risky = lines.filter((l) => /<(img|script|svg|iframe|body)/i.test(l));
  assert.ok(risky.length >= 3, "no markup payloads in the corpus");
  return risky.slice(0, 3);
}

test("an admin adds a group admin and a role assignment through the forms", async () => {
  await signInAs("admin@irwell-field.example", "/settings");
  await page.getByRole("link", { name: "App admins" }).click();
  await page.waitForURL((u) => u.pathname === "/settings/admins");

  const admins = page.locator("#add-admin");
  await admins.getByLabel("App").selectOption("dispatch");
  await admins.getByLabel("Kind").selectOption("group");
  await admins.getByLabel("Group name or account id").fill("");
  await admins.getByRole("button", { name: "Add" }).click();
  await page.locator("#value-error").waitFor();
  assert.match(await page.locator("#value-error").innerText(), /group name/);

  await page.locator("#add-admin").getByLabel("Group name or account id").fill("dispatch-leads");
  await page.locator("#add-admin").getByRole("button", { name: "Add" }).click();
  await page.waitForURL((u) => u.search === "?done=added");
  assert.match(await page.locator("section[aria-labelledby=app-dispatch]").innerText(), /dispatch-leads/);

  await page.goto(base() + "/settings/roles");
  const roles = page.locator("#add-role");
  await roles.getByLabel("Project key").fill("");
  await roles.getByLabel("Role").selectOption("dispatcher");
  await roles.getByLabel("Who").selectOption("group");
  await roles.getByLabel("Group name, account id or permission key").fill("dispatchers");
  await roles.getByRole("button", { name: "Add" }).click();
  await page.locator("#project-error").waitFor();
  // The rest of the input is kept.
  assert.equal(await page.locator("#add-role #value").inputValue(), "dispatchers");
  await page.locator("#add-role").getByLabel("Project key").fill("FS");
  await page.locator("#add-role").getByRole("button", { name: "Add" }).click();
  await page.waitForURL((u) => u.search === "?done=added");
  const fs = await page.locator("section[aria-labelledby=project-FS]").innerText();
  assert.match(fs, /dispatcher/);
  assert.match(fs, /dispatchers/);
  assert.equal(dialogs, 0);
});

test("attack payloads typed into the forms are shown as literal text", async () => {
  await signInAs("admin@irwell-field.example", "/settings/admins");
  for (const payload of payloads()) {
    // Accepted as a group name, then listed.
    await page.goto(base() + "/settings/admins");
    const form = page.locator("#add-admin");
    await form.getByLabel("Kind").selectOption("group");
    await form.getByLabel("Group name or account id").fill(payload);
    await form.getByRole("button", { name: "Add" }).click();
    await page.waitForURL((u) => u.search === "?done=added");
    const listed = await page.locator("main .entry-value").allInnerTexts();
    assert.ok(listed.includes(payload), `not shown literally: ${payload}`);
    // Refused as a project key, then re-rendered in the field.
    await page.goto(base() + "/settings/roles");
    await page.locator("#add-role").getByLabel("Project key").fill(payload);
    await page.locator("#add-role").getByRole("button", { name: "Add" }).click();
    await page.locator("#project-error").waitFor();
    assert.equal(await page.locator("#add-role #project").inputValue(), payload);
    for (const tag of ["img", "iframe", "svg", "object", "embed"]) {
      assert.equal(await page.locator(`main ${tag}`).count(), 0, `injected <${tag}>`);
    }
    assert.equal(await page.locator("main script").count(), 0);
  }
  assert.equal(dialogs, 0, "a payload opened a dialog");
});

test("attack payloads in the apps' settings fields stay inert", async () => {
  await signInAs("admin@irwell-field.example", "/settings/egress");
  const inert = async (what) => {
    for (const tag of ["img", "iframe", "svg", "object", "embed"]) {
      assert.equal(await page.locator(`main ${tag}`).count(), 0, `injected <${tag}> (${what})`);
    }
    assert.equal(await page.locator("main script").count(), 0, `injected <script> (${what})`);
  };
  for (const payload of payloads()) {
    // Outbound connections: refused, re-rendered in the field.
    await page.goto(base() + "/settings/egress");
    await page.locator("#add-egress #entry").fill(payload);
    await page.locator("#add-egress").getByRole("button", { name: "Allow" }).click();
    await page.locator("#entry-error").waitFor();
    assert.equal(await page.locator("#add-egress #entry").inputValue(), payload);
    await inert("egress");
    // DispatchDesk projects: refused per field, input kept.
    await page.goto(base() + "/settings/dispatch");
    await page.locator("#projects-form #projects").fill(payload);
    await page.locator("#projects-form").getByRole("button", { name: "Save projects" }).click();
    await page.locator("#projects-error").waitFor();
    assert.equal(await page.locator("#projects-form #projects").inputValue(), payload);
    await inert("dispatch projects");
    // Technicians: a bad account id, and the name kept as typed.
    await page.goto(base() + "/settings/dispatch/technicians");
    await page.locator("#add-technicians #kind").selectOption("user");
    await page.locator("#add-technicians #value").fill(payload);
    await page.locator("#add-technicians #name").fill(payload);
    await page.locator("#add-technicians").getByRole("button", { name: "Add" }).click();
    await page.locator("#value-error").waitFor();
    assert.equal(await page.locator("#add-technicians #name").inputValue(), payload);
    await inert("technicians");
    // Assets to SQL: an export named with the payload is created and shown literally.
    await page.goto(base() + "/assets-sql/exports/new");
    await page.locator("#export-form #name").fill(payload.slice(0, 100));
    await page.locator("#export-form").getByRole("button", { name: "Save export" }).click();
    await page.waitForURL((u) => /^\/assets-sql\/exports\/exp-/.test(u.pathname));
    assert.equal((await page.locator("main h1").innerText()).trim(), payload.slice(0, 100).trim());
    await inert("export name");
    // API keys: no export chosen, the name comes back as typed.
    await page.goto(base() + "/assets-sql/keys");
    await page.locator("#issue-key #name").fill(payload.slice(0, 80));
    await page.locator("#issue-key").getByRole("button", { name: "Issue key" }).click();
    await page.locator("#issue-key .field-error").first().waitFor();
    assert.equal(await page.locator("#issue-key #name").inputValue(), payload.slice(0, 80));
    await inert("API key name");
  }
  assert.equal(dialogs, 0, "a payload opened a dialog");
});

test("a form POST without the CSRF token is refused", async () => {
  await signInAs("admin@irwell-field.example", "/settings/admins");
  const res = await page.request.post(base() + "/settings/admins/add", {
    form: { app: "platform", kind: "group", value: "no-token" },
    headers: { origin: base() },
    maxRedirects: 0,
  });
  assert.equal(res.status(), 403);
  await page.reload();
  assert.doesNotMatch(await page.locator("main").innerText(), /no-token/);
});

test("a technician may not open the admin settings", async () => {
  await signInAs("leo.ashworth@irwell-field.example", "/settings/admins");
  const res = await page.reload();
  assert.equal(res.status(), 403);
});
